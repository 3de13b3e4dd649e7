import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { ModelSignature, ReferenceProfile } from '../common/signature';
import { AppConfig } from '../config/config';
import { SqlDatabase } from '../database/sql-database';
import { AppLogger } from '../telemetry/logger';
import { RegistryService } from './registry.service';
import { RegistryStore } from './registry.store';
import { TrackingService } from './tracking.service';
import { flattenMetrics } from './domain/metrics';

export const BOOTSTRAP_ACTOR = 'bootstrap';

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

/**
 * On an empty registry, imports each committed `MODELS_DIR/<name>/` (model.onnx, signature.json,
 * metrics.json, reference.json) as version 1 in Production, so a fresh checkout serves at once.
 * Runs in `onModuleInit`, before any module's `onApplicationBootstrap` (serving loads after it).
 */
@Injectable()
export class RegistryBootstrap implements OnModuleInit {
  constructor(
    private readonly registry: RegistryService,
    private readonly tracking: TrackingService,
    private readonly store: RegistryStore,
    @Inject(SqlDatabase) private readonly database: SqlDatabase,
    private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.BOOTSTRAP_MODELS) return;
    try {
      await this.importModels();
    } catch (error) {
      // A broken demo model must not stop the service: it then has nothing to serve, and says so.
      this.logger.error('Registry bootstrap failed', {
        'event.action': 'registry-bootstrap',
        'error.message': (error as Error).message,
      });
    }
  }

  /** Imports the model folders when the registry is empty; returns the names imported. */
  async importModels(directory = this.config.MODELS_DIR): Promise<string[]> {
    // Replicas starting together: one imports, the others find the lock taken and skip.
    const result = await this.database.withAdvisoryLock('vigil:registry-bootstrap', async () => {
      if ((await this.store.countModels()) > 0) return [];
      const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
      const imported: string[] = [];
      for (const entry of entries
        .filter((candidate) => candidate.isDirectory())
        .sort((a, b) => a.name.localeCompare(b.name))) {
        const folder = join(directory, entry.name);
        const files = new Set(await readdir(folder));
        if (!files.has('model.onnx') || !files.has('signature.json')) continue;
        try {
          const signature = (await readJson(join(folder, 'signature.json'))) as ModelSignature;
          const metrics = files.has('metrics.json')
            ? ((await readJson(join(folder, 'metrics.json'))) as Record<string, unknown>)
            : {};
          const runId = await this.recordRun(entry.name, folder, files, signature, metrics);
          await this.registry.registerVersion(
            {
              name: entry.name,
              onnx: await readFile(join(folder, 'model.onnx')),
              signature,
              metrics,
              reference: files.has('reference.json')
                ? ((await readJson(join(folder, 'reference.json'))) as ReferenceProfile)
                : null,
              runId,
              description: `Imported from ${folder} at first start`,
              stage: 'Production',
              reason: `bootstrap: empty registry, imported ${folder}`,
            },
            BOOTSTRAP_ACTOR,
          );
          imported.push(entry.name);
        } catch (error) {
          this.logger.error(`Could not import the committed model ${folder}`, {
            'event.action': 'registry-bootstrap',
            'vigil.model': entry.name,
            'error.message': (error as Error).message,
          });
        }
      }
      if (imported.length > 0)
        this.logger.info(`Registry bootstrap: imported ${imported.join(', ')} as version 1 in Production`, {
          'event.action': 'registry-bootstrap',
        });
      return imported;
    });
    return result.acquired ? result.value : [];
  }

  /** The committed training as a finished run (history.json → per-step metrics), for lineage. */
  private async recordRun(
    name: string,
    folder: string,
    files: Set<string>,
    signature: ModelSignature,
    metrics: Record<string, unknown>,
  ): Promise<string> {
    const runId = await this.tracking.createRun(name, signature.hyperParameters ?? {}, {
      source: 'bootstrap',
      folder,
    });
    if (files.has('history.json')) {
      const history = await readJson(join(folder, 'history.json'));
      for (const [key, points] of Object.entries(historyByMetric(history)))
        await this.tracking.logMetricHistory(runId, key, points);
    }
    await this.tracking.finishRun(
      runId,
      'FINISHED',
      flattenMetrics(metrics).metrics,
      RUN_ARTIFACTS.filter((file) => files.has(file)).map((file) => ({
        name: file,
        path: join(folder, file),
      })),
    );
    return runId;
  }
}

const RUN_ARTIFACTS = ['model.onnx', 'signature.json', 'metrics.json', 'reference.json', 'history.json'];

/** `[{ step: 1, trainLoss: 0.54, validationLoss: 0.51 }, …]` → `{ train_loss: [{ step: 1, value: 0.54 }], … }`. */
export function historyByMetric(history: unknown): Record<string, { step: number; value: number }[]> {
  const byMetric: Record<string, { step: number; value: number }[]> = {};
  if (!Array.isArray(history)) return byMetric;
  for (const record of history as unknown[]) {
    if (typeof record !== 'object' || record === null) continue;
    const step = (record as { step?: unknown }).step;
    if (typeof step !== 'number') continue;
    for (const [key, value] of Object.entries(record)) {
      if (key === 'step' || typeof value !== 'number') continue;
      const metric = key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      (byMetric[metric] ??= []).push({ step, value });
    }
  }
  return byMetric;
}
