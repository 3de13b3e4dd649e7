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
          const runId = await this.tracking.recordRunFromFolder(entry.name, folder, { source: 'bootstrap' });
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
}
