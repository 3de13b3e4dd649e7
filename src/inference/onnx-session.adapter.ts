import * as ort from 'onnxruntime-node';
import { AppError } from '../common/errors';
import type { ModelSignature } from '../common/signature';
import { allocateColumns, type ColumnBuffer } from './column-buffers';

/** The two outputs of one inference call, `rows` rows long. */
export interface InferenceOutput {
  /** Class names (int64 label outputs are mapped through `signature.classes`). */
  labels: readonly string[];
  /** Row-major `[rows, classes]`, in the signature's class order. */
  probabilities: Float32Array;
}

export class InvalidModelError extends AppError {
  constructor(message: string) {
    super('INVALID_ARTIFACT', message);
  }
}

/** One session per process core: a server must not spin extra threads (FACTS.md: p99 ×5 when pinned). */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
const OUTPUTS = ['label', 'probabilities'];

/**
 * The only code that talks to ONNX Runtime: loads a model from bytes, checks its graph against the
 * signature, runs batches of columns, and releases the native session.
 */
export class OnnxModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputNames: readonly string[],
    private readonly inputTypes: readonly ('float32' | 'string')[],
    private readonly int64Classes: readonly string[] | undefined,
    private readonly classCount: number,
  ) {}

  /** Creates the session and checks it can serve this signature; throws InvalidModelError otherwise. */
  static async load(bytes: Uint8Array, signature: ModelSignature): Promise<OnnxModelSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    } catch (error) {
      throw new InvalidModelError(`ONNX Runtime cannot load the model: ${messageOf(error)}`);
    }
    try {
      const inputTypes = checkInputs(session, signature);
      const int64Classes = checkOutputs(session, signature);
      const model = new OnnxModelSession(
        session,
        signature.features.map((feature) => feature.name),
        inputTypes,
        int64Classes,
        signature.classes.length,
      );
      await model.warmUp(signature);
      return model;
    } catch (error) {
      await session.release().catch(() => undefined);
      throw error instanceof AppError
        ? error
        : new InvalidModelError(`Warm-up inference failed: ${messageOf(error)}`);
    }
  }

  /** One inference call over the first `rows` rows of the columns. */
  async run(columns: readonly ColumnBuffer[], rows: number): Promise<InferenceOutput> {
    const feeds: Record<string, ort.Tensor> = {};
    for (let index = 0; index < columns.length; index++) {
      const column = columns[index]!;
      const name = this.inputNames[index]!;
      if (this.inputTypes[index] === 'float32') {
        const data = column as Float32Array;
        feeds[name] = new ort.Tensor('float32', data.length === rows ? data : data.subarray(0, rows), [
          rows,
          1,
        ]);
      } else {
        const data = column as string[];
        feeds[name] = new ort.Tensor('string', data.length === rows ? data : data.slice(0, rows), [rows, 1]);
      }
    }
    const results = await this.session.run(feeds, OUTPUTS);
    const probabilities = results.probabilities!.data as Float32Array;
    if (probabilities.length !== rows * this.classCount) {
      throw new InvalidModelError(`probabilities output has ${probabilities.length} values for ${rows} rows`);
    }
    const labelData = results.label!.data;
    let labels: readonly string[];
    if (this.int64Classes === undefined) {
      labels = labelData as string[];
    } else {
      const indices = labelData as BigInt64Array;
      const mapped = new Array<string>(rows);
      for (let row = 0; row < rows; row++)
        mapped[row] = this.int64Classes[Number(indices[row])] ?? String(indices[row]);
      labels = mapped;
    }
    return { labels, probabilities };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** First call pays for allocations and kernel setup; do it before traffic, with plausible values. */
  private async warmUp(signature: ModelSignature): Promise<void> {
    const columns = allocateColumns(signature.features, 1);
    signature.features.forEach((feature, index) => {
      if (feature.type === 'numeric') (columns[index] as Float32Array)[0] = feature.example;
      else (columns[index] as string[])[0] = feature.example;
    });
    const output = await this.run(columns, 1);
    if (output.labels.length !== 1) throw new InvalidModelError('label output has the wrong length');
  }
}

function checkInputs(session: ort.InferenceSession, signature: ModelSignature): ('float32' | 'string')[] {
  const metadata = new Map(session.inputMetadata.map((input) => [input.name, input]));
  const problems: string[] = [];
  const types = signature.features.map((feature) => {
    const expected = feature.type === 'numeric' ? 'float32' : 'string';
    const input = metadata.get(feature.name);
    if (input === undefined) problems.push(`no input named "${feature.name}"`);
    else if (!input.isTensor || input.type !== expected) {
      problems.push(`input "${feature.name}" is not a ${expected} tensor`);
    }
    return expected;
  });
  for (const name of session.inputNames) {
    if (!signature.features.some((feature) => feature.name === name))
      problems.push(`unexpected input "${name}"`);
  }
  if (problems.length > 0)
    throw new InvalidModelError(`Model inputs do not match the signature: ${problems.join('; ')}`);
  return types;
}

/** Returns the class names to map int64 labels through, or undefined for string labels. */
function checkOutputs(session: ort.InferenceSession, signature: ModelSignature): string[] | undefined {
  const metadata = new Map(session.outputMetadata.map((output) => [output.name, output]));
  const label = metadata.get('label');
  const probabilities = metadata.get('probabilities');
  // ZipMap (a sequence of maps) does not run in onnxruntime-node: refuse it with a clear message.
  if (label === undefined || probabilities === undefined) {
    throw new InvalidModelError('Model must have outputs "label" and "probabilities"');
  }
  if (!probabilities.isTensor || probabilities.type !== 'float32') {
    throw new InvalidModelError(
      'Output "probabilities" must be a float32 tensor [N, classes] (export sklearn models with zipmap disabled)',
    );
  }
  if (!label.isTensor || (label.type !== 'string' && label.type !== 'int64')) {
    throw new InvalidModelError('Output "label" must be a string or int64 tensor [N]');
  }
  if (signature.classes.length < 2) throw new InvalidModelError('Signature must list at least two classes');
  return label.type === 'int64' ? [...signature.classes] : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
