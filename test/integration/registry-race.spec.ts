import { AppError } from '../../src/common/errors';
import {
  makeRegisterInput,
  makeRegistry,
  openTestStore,
  STORE_KINDS,
  type TestStore,
} from './registry-fixtures';

/**
 * Two registries on two independent connections (as two processes would have) promote different
 * versions of one model at the same time, many times: there is never more than one Production version.
 */
describe.each(STORE_KINDS)('concurrent promotions on %s', (kind) => {
  let store: TestStore;

  beforeAll(async () => {
    store = await openTestStore(kind, `race_${kind}`);
  });
  afterAll(async () => {
    await store.cleanup();
  });

  it('never leaves two Production versions, whatever the timing', async () => {
    const first = makeRegistry(store.database, store.dataDir).registry;
    const otherDatabase = store.openAnother();
    const second = makeRegistry(otherDatabase, store.dataDir).registry;
    for (let version = 1; version <= 4; version += 1)
      await first.registerVersion(makeRegisterInput('race', 0.9), 'setup'); // equal metrics: the gate passes

    const productionCount = async (): Promise<number> =>
      (await first.listVersions('race')).filter((version) => version.stage === 'Production').length;
    const promote = async (registry: typeof first, version: number): Promise<string> => {
      try {
        await registry.transitionStage('race', version, 'Production', { actor: `p${version}` });
        return 'promoted';
      } catch (error) {
        // Losing the race to an identical promotion is fine; anything else is a bug.
        if (error instanceof AppError && error.code === 'CONFLICT') return 'conflict';
        throw error;
      }
    };

    const outcomes: string[] = [];
    for (let round = 0; round < 15; round += 1) {
      const a = (round % 4) + 1;
      const b = ((round + 1) % 4) + 1;
      outcomes.push(
        ...(await Promise.all([
          promote(first, a),
          promote(second, b),
          promote(first, b),
          promote(second, a),
        ])),
      );
      expect(await productionCount()).toBe(1);
    }
    expect(outcomes.filter((outcome) => outcome === 'promoted').length).toBeGreaterThanOrEqual(15);
    // Every promotion archived exactly the version it replaced: the audit log tells one consistent story.
    const audit = (await first.listAudit({ model: 'race', limit: 1000 })).reverse();
    let current: number | null = null;
    for (const entry of audit.filter((candidate) => candidate.action === 'transition')) {
      if (entry.toStage === 'Archived') {
        expect(entry.version).toBe(current);
        current = null;
      } else if (entry.toStage === 'Production') {
        expect(current).toBeNull();
        current = entry.version;
      }
    }
  });
});
