import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../src/common/errors';
import type { StageChange } from '../../src/registry/domain/model-version';
import { RegistryBootstrap } from '../../src/registry/registry.bootstrap';
import { RegistryStore } from '../../src/registry/registry.store';
import {
  makeMetrics,
  makeOnnxModel,
  makeRegisterInput,
  makeRegistry,
  makeSignature,
  openTestStore,
  quietLogger,
  STORE_KINDS,
  type TestRegistry,
  type TestStore,
  writeModelFolder,
} from './registry-fixtures';

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, got success');
}

const ADMIN = { actor: 'admin:test' };

describe.each(STORE_KINDS)('RegistryService on %s', (kind) => {
  let store: TestStore;
  let r: TestRegistry;
  let events: StageChange[];

  beforeAll(async () => {
    store = await openTestStore(kind, `registry_${kind}`);
    r = makeRegistry(store.database, store.dataDir, { PROMOTION_TOLERANCE: 0.01, MAX_UPLOAD_BYTES: 4096 });
    events = [];
    r.registry.onChange((event) => events.push(event));
  });
  afterAll(async () => {
    await store.cleanup();
  });
  beforeEach(() => {
    events.length = 0;
  });

  describe('versions and stages', () => {
    it('registers version 1 in stage None with its artifact stored by sha256', async () => {
      const version = await r.registry.registerVersion(
        makeRegisterInput('alpha', 0.8, { description: 'first', params: { C: 2 } }),
        'alice',
      );
      expect(version).toMatchObject({
        name: 'alpha',
        version: 1,
        stage: 'None',
        aliases: [],
        metrics: { roc_auc: 0.8, accuracy: 0.9 },
        params: { C: 2 },
        datasetFingerprint: 'f'.repeat(64),
        description: 'first',
        createdBy: 'alice',
        parentVersion: null,
      });
      expect(existsSync(join(store.dataDir, 'artifacts', version.sha256))).toBe(true);
      const bytes = await r.registry.readArtifact(version);
      expect(bytes.equals(makeOnnxModel({ seed: 800 }))).toBe(true);
      expect(version.sizeBytes).toBe(bytes.length);
    });

    it('promotes to Production, archiving the previous Production version, and notifies', async () => {
      await r.registry.transitionStage('alpha', 1, 'Production', { ...ADMIN, reason: 'first' });
      const v2 = await r.registry.registerVersion(
        makeRegisterInput('alpha', 0.85, { parentVersion: 1 }),
        'bob',
      );
      expect(v2.version).toBe(2);
      expect(v2.parentVersion).toBe(1);
      events.length = 0;
      const promoted = await r.registry.transitionStage('alpha', 2, 'Production', {
        ...ADMIN,
        reason: 'better',
      });
      expect(promoted.stage).toBe('Production');
      await expect(r.registry.getVersion('alpha', 1)).resolves.toMatchObject({ stage: 'Archived' });
      await expect(r.registry.getProductionVersion('alpha')).resolves.toMatchObject({ version: 2 });
      expect(events).toEqual([
        { name: 'alpha', version: 1, stage: 'Archived' },
        { name: 'alpha', version: 2, stage: 'Production' },
      ]);
      const production = await r.registry.listProductionVersions();
      expect(production.map((version) => `${version.name}:${version.version}`)).toEqual(['alpha:2']);
    });

    it('refuses a promotion whose primary metric is worse beyond the tolerance, stating the numbers', async () => {
      await r.registry.registerVersion(makeRegisterInput('alpha', 0.8), 'bob'); // v3
      const error = await errorOf(r.registry.transitionStage('alpha', 3, 'Production', ADMIN));
      expect(error.code).toBe('PROMOTION_REFUSED');
      expect(error.message).toContain('roc_auc of v3 is 0.8, worse than Production v2');
      expect(error.message).toContain('0.85 by 0.05 (tolerance 0.01)');
      expect(error.details).toMatchObject({
        metric: 'roc_auc',
        candidate: 0.8,
        production: 0.85,
        tolerance: 0.01,
      });
      await expect(r.registry.getProductionVersion('alpha')).resolves.toMatchObject({ version: 2 });
      expect(events).toEqual([]);
    });

    it('lets a candidate within the tolerance through', async () => {
      await r.registry.registerVersion(makeRegisterInput('alpha', 0.845), 'bob'); // v4
      await expect(r.registry.transitionStage('alpha', 4, 'Staging', ADMIN)).resolves.toMatchObject({
        stage: 'Staging',
      });
      await expect(r.registry.transitionStage('alpha', 4, 'Production', ADMIN)).resolves.toMatchObject({
        stage: 'Production',
      });
      await expect(r.registry.getVersion('alpha', 2)).resolves.toMatchObject({ stage: 'Archived' });
    });

    it('needs a reason to force a promotion, and audits the override', async () => {
      const noReason = await errorOf(
        r.registry.transitionStage('alpha', 3, 'Production', { ...ADMIN, force: true }),
      );
      expect(noReason.code).toBe('INVALID_INPUT');
      const forced = await r.registry.transitionStage('alpha', 3, 'Production', {
        ...ADMIN,
        force: true,
        reason: 'hotfix',
      });
      expect(forced.stage).toBe('Production');
      const [latest] = await r.registry.listAudit({ model: 'alpha', limit: 1 });
      expect(latest).toMatchObject({
        action: 'transition',
        actor: 'admin:test',
        version: 3,
        fromStage: 'None',
        toStage: 'Production',
        reason: 'hotfix',
        details: { forced: true },
      });
    });

    it('refuses transitions that make no sense', async () => {
      expect((await errorOf(r.registry.transitionStage('alpha', 3, 'Production', ADMIN))).code).toBe(
        'CONFLICT',
      );
      expect((await errorOf(r.registry.transitionStage('alpha', 3, 'None', ADMIN))).code).toBe('CONFLICT');
      expect((await errorOf(r.registry.transitionStage('alpha', 99, 'Staging', ADMIN))).code).toBe(
        'VERSION_NOT_FOUND',
      );
      expect((await errorOf(r.registry.transitionStage('nope', 1, 'Staging', ADMIN))).code).toBe(
        'MODEL_NOT_FOUND',
      );
    });

    it('rolls back to the previous Production version, and a second rollback undoes the first', async () => {
      // Production history so far: v1, v2, v4, v3 (current).
      const restored = await r.registry.rollback('alpha', { ...ADMIN, reason: 'v3 misbehaves' });
      expect(restored).toMatchObject({ version: 4, stage: 'Production' });
      await expect(r.registry.getVersion('alpha', 3)).resolves.toMatchObject({ stage: 'Archived' });
      const audit = await r.registry.listAudit({ model: 'alpha', limit: 2 });
      expect(audit.map((entry) => [entry.action, entry.version, entry.fromStage, entry.toStage])).toEqual([
        ['rollback', 4, 'Archived', 'Production'],
        ['rollback', 3, 'Production', 'Archived'],
      ]);
      expect(audit[0]?.reason).toBe('v3 misbehaves');
      await expect(r.registry.rollback('alpha', ADMIN)).resolves.toMatchObject({ version: 3 });
      await expect(r.registry.rollback('alpha', { ...ADMIN, toVersion: 1 })).resolves.toMatchObject({
        version: 1,
      });
      await expect(r.registry.getProductionVersion('alpha')).resolves.toMatchObject({ version: 1 });
    });

    it('reports unknown models and models without Production with distinct codes', async () => {
      expect((await errorOf(r.registry.getProductionVersion('ghost'))).code).toBe('MODEL_NOT_FOUND');
      await r.registry.registerVersion(makeRegisterInput('beta', 0.7), 'bob');
      expect((await errorOf(r.registry.getProductionVersion('beta'))).code).toBe('MODEL_NOT_READY');
      expect((await errorOf(r.registry.getVersion('beta', 5))).code).toBe('VERSION_NOT_FOUND');
      expect((await errorOf(r.registry.rollback('beta', ADMIN))).code).toBe('CONFLICT');
    });

    it('registers straight into Production through the gate, atomically', async () => {
      const first = await r.registry.registerVersion(
        makeRegisterInput('gamma', 0.9, { stage: 'Production' }),
        'ci',
      );
      expect(first).toMatchObject({ version: 1, stage: 'Production' });
      const refused = await errorOf(
        r.registry.registerVersion(makeRegisterInput('gamma', 0.5, { stage: 'Production' }), 'ci'),
      );
      expect(refused.code).toBe('PROMOTION_REFUSED');
      // Nothing was registered: the next version is still number 2.
      await expect(r.registry.listVersions('gamma')).resolves.toHaveLength(1);
      const next = await r.registry.registerVersion(makeRegisterInput('gamma', 0.91), 'ci');
      expect(next.version).toBe(2);
    });

    it('deletes versions except the Production one, and audits it', async () => {
      expect((await errorOf(r.registry.deleteVersion('gamma', 1, ADMIN))).code).toBe('CONFLICT');
      await r.registry.deleteVersion('gamma', 2, { ...ADMIN, reason: 'mistake' });
      expect((await errorOf(r.registry.getVersion('gamma', 2))).code).toBe('VERSION_NOT_FOUND');
      const [entry] = await r.registry.listAudit({ model: 'gamma', limit: 1 });
      expect(entry).toMatchObject({ action: 'delete_version', version: 2, reason: 'mistake' });
      // Version numbers are never reused.
      await expect(r.registry.registerVersion(makeRegisterInput('gamma', 0.92), 'ci')).resolves.toMatchObject(
        {
          version: 3,
        },
      );
    });

    it('deletes a whole model only when nothing is in Production', async () => {
      expect((await errorOf(r.registry.deleteModel('gamma', ADMIN))).code).toBe('CONFLICT');
      await r.registry.deleteModel('beta', ADMIN);
      expect((await errorOf(r.registry.getModel('beta'))).code).toBe('MODEL_NOT_FOUND');
    });
  });

  describe('aliases and models', () => {
    it('sets, resolves, moves and removes aliases', async () => {
      await r.registry.setAlias('alpha', 'champion', 2, ADMIN);
      await expect(r.registry.resolveVersion('alpha', 'champion')).resolves.toMatchObject({
        version: 2,
        aliases: ['champion'],
      });
      await r.registry.setAlias('alpha', 'champion', 4, ADMIN);
      await expect(r.registry.getVersion('alpha', 2)).resolves.toMatchObject({ aliases: [] });
      await expect(r.registry.resolveVersion('alpha', 'production')).resolves.toMatchObject({ version: 1 });
      const model = await r.registry.getModel('alpha');
      expect(model).toMatchObject({
        productionVersion: 1,
        latestVersion: 4,
        versionCount: 4,
        aliases: { champion: 4 },
      });
      await r.registry.removeAlias('alpha', 'champion', ADMIN);
      expect((await errorOf(r.registry.resolveVersion('alpha', 'champion'))).code).toBe('VERSION_NOT_FOUND');
      expect((await errorOf(r.registry.removeAlias('alpha', 'champion', ADMIN))).code).toBe('NOT_FOUND');
      expect((await errorOf(r.registry.setAlias('alpha', '12', 1, ADMIN))).code).toBe('INVALID_INPUT');
      expect((await errorOf(r.registry.setAlias('alpha', 'x', 99, ADMIN))).code).toBe('VERSION_NOT_FOUND');
    });

    it('updates description and tags', async () => {
      await expect(
        r.registry.updateModel('alpha', { description: 'the alpha model', tags: { team: 'risk' } }, ADMIN),
      ).resolves.toMatchObject({ description: 'the alpha model', tags: { team: 'risk' } });
    });
  });

  describe('upload validation: 400 and nothing stored', () => {
    const artifactCount = () =>
      existsSync(join(store.dataDir, 'artifacts')) ? readdirSync(join(store.dataDir, 'artifacts')).length : 0;

    it.each([
      ['not ONNX', { onnx: Buffer.from('definitely not a protobuf model') }, 'not an ONNX model'],
      [
        'over MAX_UPLOAD_BYTES',
        { onnx: Buffer.alloc(5000, 1) },
        'over the 4096-byte limit (MAX_UPLOAD_BYTES)',
      ],
      [
        'not loadable by ONNX Runtime',
        { onnx: makeOnnxModel({ features: ['x1', 'x2'], classes: ['no'] }) },
        'ONNX Runtime cannot load the model',
      ],
      [
        'signature without a graph output',
        { onnx: makeOnnxModel({ omitProbabilities: true }) },
        'signature output "probabilities" is not a graph output',
      ],
      [
        'graph input missing from the signature',
        { onnx: makeOnnxModel({ features: ['x1', 'x2', 'x3'] }) },
        'graph input "x3" is missing from the signature',
      ],
      [
        'malformed signature',
        { signature: { schemaVersion: 2 } as never },
        'signature.schemaVersion must be 1',
      ],
    ])('refuses %s', async (_, overrides, message) => {
      const before = artifactCount();
      const error = await errorOf(
        r.registry.registerVersion(makeRegisterInput('delta', 0.8, overrides), 'eve'),
      );
      expect(error.status).toBe(400);
      expect(error.message).toContain(message);
      expect(artifactCount()).toBe(before);
      expect((await errorOf(r.registry.getModel('delta'))).code).toBe('MODEL_NOT_FOUND');
    });

    it('refuses an artifact whose bytes no longer match its sha256', async () => {
      const version = await r.registry.getVersion('alpha', 1);
      const path = join(store.dataDir, 'artifacts', version.sha256);
      writeFileSync(path, Buffer.from('tampered'));
      const error = await errorOf(r.registry.readArtifact(version));
      expect(error.code).toBe('INVALID_ARTIFACT');
      expect(error.message).toContain('is corrupt');
    });
  });

  describe('experiment tracking', () => {
    it('records a run with per-step history, compares runs by a metric, registers one', async () => {
      const first = await r.tracking.createRun('exp', { algorithm: 'logreg' }, { 'git.commit': 'abc123' });
      expect(await r.tracking.logMetric(first, 'loss', 0.7)).toBe(0);
      expect(await r.tracking.logMetric(first, 'loss', 0.5)).toBe(1);
      expect(await r.tracking.logMetric(first, 'loss', 0.4, 5)).toBe(5);
      await r.tracking.finishRun(first, 'FINISHED', { roc_auc: 0.81 }, [
        { name: 'model.onnx', content: makeOnnxModel({ seed: 42 }) },
        { name: 'signature.json', content: Buffer.from(JSON.stringify(makeSignature({ name: 'epsilon' }))) },
        { name: 'metrics.json', content: Buffer.from(JSON.stringify(makeMetrics(0.81))) },
      ]);
      const second = await r.tracking.createRun('exp', { algorithm: 'gbdt' });
      await r.tracking.finishRun(second, 'FINISHED', { roc_auc: 0.88 });
      const third = await r.tracking.createRun('exp', {});
      await r.tracking.finishRun(third, 'FAILED', {});

      const run = await r.tracking.getRunWithHistory(first);
      expect(run.history.loss?.map((point) => [point.step, point.value])).toEqual([
        [0, 0.7],
        [1, 0.5],
        [5, 0.4],
      ]);
      expect(run.artifacts.map((artifact) => artifact.name)).toEqual([
        'model.onnx',
        'signature.json',
        'metrics.json',
      ]);

      const compared = await r.tracking.compareRuns({ metric: 'roc_auc', experiment: 'exp' });
      expect(compared.map((candidate) => candidate.runId)).toEqual([second, first, third]);

      const version = await r.registry.registerVersionFromRun(first, { actor: 'ci', stage: 'Staging' });
      expect(version).toMatchObject({
        name: 'epsilon',
        version: 1,
        stage: 'Staging',
        runId: first,
        gitCommit: 'abc123',
        params: { algorithm: 'logreg' },
        metrics: { roc_auc: 0.81 },
      });
      expect((await errorOf(r.registry.registerVersionFromRun(third, { actor: 'ci' }))).code).toBe(
        'CONFLICT',
      );
      expect((await errorOf(r.registry.registerVersionFromRun(second, { actor: 'ci' }))).code).toBe(
        'INVALID_INPUT',
      );
      expect((await errorOf(r.tracking.logMetric('missing', 'loss', 1))).code).toBe('RUN_NOT_FOUND');
    });
  });
});

describe.each(STORE_KINDS)('RegistryBootstrap on %s', (kind) => {
  let store: TestStore;
  afterAll(async () => {
    await store.cleanup();
  });

  it('imports the committed model folders as version 1 in Production, once, on an empty registry', async () => {
    store = await openTestStore(kind, `bootstrap_${kind}`);
    const modelsDir = join(store.dataDir, 'models');
    writeModelFolder(modelsDir, 'credit', 0.86);
    writeModelFolder(modelsDir, 'iris', 0.97);
    const r = makeRegistry(store.database, store.dataDir, { MODELS_DIR: modelsDir, BOOTSTRAP_MODELS: true });
    const bootstrap = new RegistryBootstrap(
      r.registry,
      r.tracking,
      new RegistryStore(store.database),
      store.database,
      r.config,
      quietLogger,
    );
    await expect(bootstrap.importModels()).resolves.toEqual(['credit', 'iris']);
    const production = await r.registry.listProductionVersions();
    expect(
      production.map((version) => [version.name, version.version, version.stage, version.createdBy]),
    ).toEqual([
      ['credit', 1, 'Production', 'bootstrap'],
      ['iris', 1, 'Production', 'bootstrap'],
    ]);
    await expect(r.registry.getReference('iris', 1)).resolves.toEqual({ schemaVersion: 1, rowCount: 10 });
    // The committed training is recorded as a run, with its loss history, and linked to the version.
    const iris = await r.registry.getVersion('iris', 1);
    const run = await r.tracking.getRunWithHistory(iris.runId!);
    expect(run).toMatchObject({ experiment: 'iris', status: 'FINISHED', metrics: { roc_auc: 0.97 } });
    expect(run.history.train_loss?.map((point) => point.value)).toEqual([0.6, 0.4]);
    await expect(bootstrap.importModels()).resolves.toEqual([]);
    await expect(r.registry.listVersions('iris')).resolves.toHaveLength(1);
  });
});
