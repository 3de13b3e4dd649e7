// One runner, three projects: unit (colocated *.spec.ts), integration (real adapters), e2e (HTTP).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const base = {
  // Node's environment with the main realm's typed arrays, which onnxruntime-node checks with instanceof.
  testEnvironment: '<rootDir>/test/support/onnxruntime.environment.js',
  transform: { '^.+\\.(ts|js|mjs)$': swc },
  // NestJS 12 ships ESM only; Node 20's Jest cannot require() it, so swc compiles it to CommonJS.
  // The OTLP exporter loads `http` with a dynamic import(), which Jest's VM refuses: swc turns it into require().
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|cookie|content-disposition|file-type|strtok3|token-types|uint8array-extras|@tokenizer|@borewit|set-cookie-parser|toad-cache|@opentelemetry/otlp-exporter-base)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: __dirname,
};
/** @type {import('jest').Config} */
module.exports = {
  // Tests start servers, child processes and worker threads; one left behind by a failed test must not
  // hold the CI gate open until its time limit (seen once: "Jest did not exit").
  forceExit: true,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/web/src/**/*.spec.ts'],
    },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
