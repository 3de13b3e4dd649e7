// A Jest environment for tests that run onnxruntime-node. Jest evaluates test code in its own
// realm, but the native binding returns typed arrays of Node's main realm, and onnxruntime-common
// checks `data instanceof Float32Array`: every session.run then throws "A float32 tensor's data must
// be type of function Float32Array()". Sharing the main realm's typed-array constructors fixes it.
// Use with a docblock at the top of the test file: /** @jest-environment ./test/support/onnxruntime.environment.js */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Uint16Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
