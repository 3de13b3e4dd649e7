import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import type { ModelSignature } from '../../src/common/signature';
import { type AppConfig, makeConfig } from '../../src/config/config';
import { PostgresDatabase } from '../../src/database/postgres.database';
import type { SqlDatabase } from '../../src/database/sql-database';
import { SqliteDatabase } from '../../src/database/sqlite.database';
import { ArtifactStore } from '../../src/registry/artifact.store';
import { OnnxInspector } from '../../src/registry/onnx-inspector.adapter';
import { type RegisterVersionInput, RegistryService } from '../../src/registry/registry.service';
import { RegistryStore } from '../../src/registry/registry.store';
import { TrackingService } from '../../src/registry/tracking.service';
import { TrackingStore } from '../../src/registry/tracking.store';
import type { AppLogger } from '../../src/telemetry/logger';

/** Test factories: a tiny real ONNX classifier (Concat → LinearClassifier) and its signature. */
export interface TinyModelOptions {
  features?: string[];
  classes?: string[];
  /** Changes the weights, so that two versions have different bytes. */
  seed?: number;
  /** Leaves out the `probabilities` output (signature mismatch cases). */
  omitProbabilities?: boolean;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const STRING = onnx.TensorProto.DataType.STRING;

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

export function makeOnnxModel(options: TinyModelOptions = {}): Buffer {
  const features = options.features ?? ['x1', 'x2'];
  const classes = options.classes ?? ['no', 'yes'];
  const seed = options.seed ?? 1;
  const coefficients = classes.flatMap((_, c) =>
    features.map((_, f) => (((c + 1) * (f + 2) * seed) % 7) - 3),
  );
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'vigil-tests',
    opsetImport: [
      { domain: '', version: 15 },
      { domain: 'ai.onnx.ml', version: 1 },
    ],
    graph: {
      name: 'tiny',
      input: features.map((name) => valueInfo(name, FLOAT, ['N', 1])),
      output: [
        valueInfo('label', STRING, ['N']),
        ...(options.omitProbabilities ? [] : [valueInfo('probabilities', FLOAT, ['N', classes.length])]),
      ],
      node: [
        {
          opType: 'Concat',
          input: features,
          output: ['features'],
          attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
        },
        {
          opType: 'LinearClassifier',
          domain: 'ai.onnx.ml',
          input: ['features'],
          output: ['label', options.omitProbabilities ? 'unused_scores' : 'probabilities'],
          attribute: [
            { name: 'coefficients', type: onnx.AttributeProto.AttributeType.FLOATS, floats: coefficients },
            {
              name: 'intercepts',
              type: onnx.AttributeProto.AttributeType.FLOATS,
              floats: classes.map((_, c) => c * 0.1 * seed),
            },
            {
              name: 'classlabels_strings',
              type: onnx.AttributeProto.AttributeType.STRINGS,
              strings: classes.map((label) => Buffer.from(label)),
            },
            {
              name: 'post_transform',
              type: onnx.AttributeProto.AttributeType.STRING,
              s: Buffer.from('SOFTMAX'),
            },
          ],
        },
      ],
    },
  };
  return Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
}

export function makeSignature(overrides: Partial<ModelSignature> = {}): ModelSignature {
  const features = ['x1', 'x2'];
  const classes = overrides.classes ?? ['no', 'yes'];
  return {
    schemaVersion: 1,
    name: 'tiny',
    task: classes.length === 2 ? 'binary' : 'multiclass',
    family: 'logistic_regression',
    target: 'y',
    features: features.map((name) => ({
      name,
      type: 'numeric' as const,
      trainingMin: 0,
      trainingMax: 10,
      mean: 5,
      std: 2,
      example: 5,
    })),
    classes,
    positiveClass: classes[1],
    decisionThreshold: 0.5,
    primaryMetric: 'roc_auc',
    hyperParameters: { C: 1 },
    datasetFingerprint: 'f'.repeat(64),
    seed: 7,
    inputs: features.map((name) => ({ name, type: 'float32' as const, shape: [-1, 1] as [number, number] })),
    outputs: [
      { name: 'label', type: 'string', shape: [-1] },
      { name: 'probabilities', type: 'float32', shape: [-1, classes.length] },
    ],
    ...overrides,
  };
}

export const makeMetrics = (rocAuc: number): { test: Record<string, number> } => ({
  test: { roc_auc: rocAuc, accuracy: 0.9 },
});

// --- Stores ----------------------------------------------------------------------------------------

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: StoreKind[] = ['sqlite', 'postgres'];
/** PostgreSQL for tests: 127.0.0.1:5432, database `test` (override with TEST_DATABASE_URL). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';

export interface TestStore {
  kind: StoreKind;
  dataDir: string;
  database: SqlDatabase;
  /** Another connection to the same store, as a second process would have. */
  openAnother(): SqlDatabase;
  cleanup(): Promise<void>;
}

/** A fresh store: SQLite in a temp dir, or PostgreSQL in a schema of its own (test files run in parallel). */
export async function openTestStore(kind: StoreKind, label: string): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), `vigil-${label}-`));
  const schema =
    `t_${label.replace(/\W/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`.toLowerCase();
  const open = (): SqlDatabase =>
    kind === 'sqlite'
      ? new SqliteDatabase({ file: join(dataDir, 'vigil.db') })
      : new PostgresDatabase({ connectionString: TEST_DATABASE_URL, schema, poolSize: 4 });
  const database = open();
  try {
    await database.migrate();
  } catch (error) {
    throw new Error(
      `Cannot open the ${kind} test store (${(error as Error).message}). PostgreSQL must run on 127.0.0.1:5432 ` +
        'with a database "test": run `make system-deps` (or `pg_ctlcluster 15 main start`).',
    );
  }
  const others: SqlDatabase[] = [];
  return {
    kind,
    dataDir,
    database,
    openAnother: () => {
      const another = open();
      others.push(another);
      return another;
    },
    cleanup: async () => {
      for (const other of others) await other.close();
      if (database instanceof PostgresDatabase) await database.dropSchema();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const quietLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
} as unknown as AppLogger;

export interface TestRegistry {
  registry: RegistryService;
  tracking: TrackingService;
  artifacts: ArtifactStore;
  config: AppConfig;
}

/** The registry's real services over a store (no Nest), as the module wires them. */
export function makeRegistry(
  database: SqlDatabase,
  dataDir: string,
  overrides: Record<string, string | number | boolean> = {},
): TestRegistry {
  const config = makeConfig({ DATA_DIR: dataDir, BOOTSTRAP_MODELS: false, ...overrides });
  const artifacts = new ArtifactStore(config);
  const tracking = new TrackingService(new TrackingStore(database), artifacts);
  const registry = new RegistryService(
    new RegistryStore(database),
    artifacts,
    new OnnxInspector(),
    tracking,
    config,
    quietLogger,
  );
  return { registry, tracking, artifacts, config };
}

/** A valid registration input with a given primary metric value (`seed` varies the bytes). */
export function makeRegisterInput(
  name: string,
  rocAuc: number,
  overrides: Partial<RegisterVersionInput> = {},
): RegisterVersionInput {
  return {
    name,
    onnx: makeOnnxModel({ seed: Math.round(rocAuc * 1000) }),
    signature: makeSignature({ name }),
    metrics: makeMetrics(rocAuc),
    ...overrides,
  };
}

/** Writes `models/<name>/` folders the way training commits them. */
export function writeModelFolder(modelsDir: string, name: string, rocAuc: number): void {
  const folder = join(modelsDir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'model.onnx'), makeOnnxModel({ seed: 3 }));
  writeFileSync(join(folder, 'signature.json'), JSON.stringify(makeSignature({ name })));
  writeFileSync(join(folder, 'metrics.json'), JSON.stringify(makeMetrics(rocAuc)));
  writeFileSync(join(folder, 'reference.json'), JSON.stringify({ schemaVersion: 1, rowCount: 10 }));
  writeFileSync(
    join(folder, 'history.json'),
    JSON.stringify([
      { step: 1, trainLoss: 0.6, validationLoss: 0.65 },
      { step: 2, trainLoss: 0.4, validationLoss: 0.5 },
    ]),
  );
}
