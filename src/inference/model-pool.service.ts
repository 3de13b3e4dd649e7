import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AppError, ModelNotReadyError } from '../common/errors';
import { AppConfig } from '../config/config';
import type { ModelVersion } from '../registry/domain/model-version';
import { RegistryService } from '../registry/registry.service';
import { AppLogger } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { LoadedModel } from './loaded-model';
import type { BatcherOptions } from './micro-batcher';
import { OnnxModelSession } from './onnx-session.adapter';

/** A version that failed to load is retried after this long (not on every poll). */
const LOAD_RETRY_MS = 30_000;

export interface LoadFailure {
  version: number;
  sha256: string;
  message: string;
  at: string;
}

/** What readiness reports per Production model. */
export interface ServedModelStatus {
  name: string;
  state: 'ready' | 'loading' | 'failed';
  /** The version the registry says is in Production. */
  productionVersion: number;
  /** The version answering `/v1/models/{name}/predict` now (the previous one while a swap loads). */
  servingVersion: number | null;
  lastLoadFailure?: LoadFailure;
}

export interface PoolStatus {
  /** The registry answered the last listing. */
  registryReachable: boolean;
  registryError?: string;
  /** The first listing + load pass has finished. */
  initialized: boolean;
  models: ServedModelStatus[];
  /** Versions loaded on demand (`/versions/{v}/predict`), most recently used last. */
  onDemand: { name: string; version: number }[];
}

/**
 * The loaded-model pool: one `LoadedModel` per Production model, swapped atomically when the registry's
 * Production version changes (in-process `onChange` at once, plus polling for other replicas' promotions),
 * and a bounded LRU of other versions loaded on demand. A version that fails to load leaves the previous
 * one serving; the failure is logged, counted and reported by readiness.
 */
@Injectable()
export class ModelPoolService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly production = new Map<string, LoadedModel>();
  /** `name@version` → loaded (or loading) on-demand versions; Map order is the LRU order. */
  private readonly onDemand = new Map<string, Promise<LoadedModel>>();
  private readonly wanted = new Map<string, ModelVersion>();
  private readonly failures = new Map<string, LoadFailure & { retryAt: number }>();
  private readonly loading = new Set<string>();
  private readonly batcherOptions: BatcherOptions;
  private registryError: string | undefined;
  private initialized = false;
  private reconciling: Promise<void> | undefined;
  private rerun = false;
  private stopped = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly registry: RegistryService,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
  ) {
    this.batcherOptions = {
      enabled: config.BATCHING_ENABLED,
      maxBatchRows: config.BATCH_MAX_SIZE,
      maxDelayMs: config.BATCH_MAX_DELAY_MS,
      maxQueueRows: config.QUEUE_MAX_ROWS,
    };
  }

  /** Starts loading without blocking startup: the service listens at once and is ready once loaded. */
  onApplicationBootstrap(): void {
    this.unsubscribe = this.registry.onChange(() => void this.reconcile());
    this.pollTimer = setInterval(() => void this.reconcile(), this.config.REGISTRY_POLL_INTERVAL_MS);
    this.pollTimer.unref();
    void this.reconcile();
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
    this.unsubscribe?.();
  }

  /** After HTTP is closed (no request left): release every native session. */
  async onApplicationShutdown(): Promise<void> {
    const models = [...this.production.values()];
    this.production.clear();
    const onDemand = [...this.onDemand.values()];
    this.onDemand.clear();
    await Promise.all([
      ...models.map((model) => this.retire(model)),
      ...onDemand.map((loading) => loading.then((model) => this.retire(model)).catch(() => undefined)),
    ]);
  }

  /** The Production version of `name`, or undefined (then `explainMiss` says why). Synchronous: hot path. */
  getProduction(name: string): LoadedModel | undefined {
    return this.production.get(name);
  }

  /** The Production versions served now. */
  served(): LoadedModel[] {
    return [...this.production.values()];
  }

  /** Throws the right error for a model with nothing served: 404 unknown, 503 not (yet) loadable. */
  async explainMiss(name: string): Promise<never> {
    if (this.loading.has(name)) throw new ModelNotReadyError(name, 'is loading');
    const failure = this.failures.get(name);
    if (failure) throw new ModelNotReadyError(name, `failed to load version ${failure.version}`);
    if (!this.initialized) throw new ModelNotReadyError(name);
    // Not in the last listing: ask the registry (404 unknown, 503 no Production version).
    let version: ModelVersion;
    try {
      version = await this.registry.getProductionVersion(name);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new ModelNotReadyError(name, 'is not served (registry unreachable)');
    }
    void this.reconcile(); // promoted by another replica since the last poll
    throw new ModelNotReadyError(version.name, 'is loading');
  }

  /** A given version, loaded on demand (shared while loading) and kept in a bounded LRU. */
  async getVersion(name: string, version: number): Promise<LoadedModel> {
    const production = this.production.get(name);
    if (production?.version === version) return production;
    const key = `${name}@${version}`;
    let entry = this.onDemand.get(key);
    if (entry) {
      this.onDemand.delete(key); // most recently used goes last
      this.onDemand.set(key, entry);
      return entry;
    }
    entry = this.registry.getVersion(name, version).then((modelVersion) => this.load(modelVersion, false));
    this.onDemand.set(key, entry);
    entry.catch(() => {
      if (this.onDemand.get(key) === entry) this.onDemand.delete(key);
    });
    this.evictOnDemand();
    return entry.catch((error: unknown) => {
      throw error instanceof AppError && error.code !== 'INVALID_ARTIFACT'
        ? error
        : new ModelNotReadyError(name, `version ${version} cannot be loaded`);
    });
  }

  /** Brings the served versions in line with the registry. Serialized; a call during a pass queues one more. */
  reconcile(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reconciling) {
      this.rerun = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      do {
        this.rerun = false;
        await this.reconcileOnce();
      } while (this.rerun && !this.stopped);
    })().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  status(): PoolStatus {
    const models: ServedModelStatus[] = [];
    for (const [name, wanted] of this.wanted) {
      const serving = this.production.get(name);
      const failure = this.failures.get(name);
      const state =
        serving?.version === wanted.version && serving.sha256 === wanted.sha256
          ? 'ready'
          : this.loading.has(name)
            ? 'loading'
            : failure
              ? 'failed'
              : 'loading';
      const status: ServedModelStatus = {
        name,
        state,
        productionVersion: wanted.version,
        servingVersion: serving?.version ?? null,
      };
      if (failure)
        status.lastLoadFailure = {
          version: failure.version,
          sha256: failure.sha256,
          message: failure.message,
          at: failure.at,
        };
      models.push(status);
    }
    const onDemand = [...this.onDemand.keys()].map((key) => {
      const at = key.lastIndexOf('@');
      return { name: key.slice(0, at), version: Number(key.slice(at + 1)) };
    });
    const result: PoolStatus = {
      registryReachable: this.registryError === undefined,
      initialized: this.initialized,
      models,
      onDemand,
    };
    if (this.registryError !== undefined) result.registryError = this.registryError;
    return result;
  }

  private async reconcileOnce(): Promise<void> {
    let versions: ModelVersion[];
    try {
      versions = await this.registry.listProductionVersions();
      this.registryError = undefined;
    } catch (error) {
      // Serving goes on with what is loaded; readiness reports the registry as down.
      this.registryError = messageOf(error);
      this.logger.warn('Registry unreachable; serving the loaded versions', {
        'event.action': 'model-pool-poll',
        'error.message': this.registryError,
      });
      return;
    }
    this.wanted.clear();
    for (const version of versions) this.wanted.set(version.name, version);
    for (const version of versions) {
      if (this.stopped) return;
      const current = this.production.get(version.name);
      if (current?.version === version.version && current.sha256 === version.sha256) {
        this.failures.delete(version.name);
        continue;
      }
      const failure = this.failures.get(version.name);
      if (
        failure?.version === version.version &&
        failure.sha256 === version.sha256 &&
        Date.now() < failure.retryAt
      ) {
        continue;
      }
      await this.swapIn(version, current);
    }
    for (const [name, model] of this.production) {
      if (!this.wanted.has(name)) {
        this.production.delete(name);
        this.logger.info(`Model "${name}" has no Production version any more; stopped serving it`, {
          'event.action': 'model-unserved',
          'vigil.model.name': name,
          'vigil.model.version': model.version,
        });
        void this.retire(model);
      }
    }
    this.initialized = true;
  }

  /** Loads `version` beside `current`, then switches atomically; `current` finishes its requests. */
  private async swapIn(version: ModelVersion, current: LoadedModel | undefined): Promise<void> {
    const fields = {
      'event.action': 'model-load',
      'vigil.model.name': version.name,
      'vigil.model.version': version.version,
      'vigil.model.previous_version': current?.version,
    };
    this.loading.add(version.name);
    let loaded: LoadedModel;
    try {
      loaded = (await this.takeOnDemand(version)) ?? (await this.load(version, true));
    } catch (error) {
      const message = messageOf(error);
      this.failures.set(version.name, {
        version: version.version,
        sha256: version.sha256,
        message,
        at: new Date().toISOString(),
        retryAt: Date.now() + LOAD_RETRY_MS,
      });
      this.metrics.modelLoadFailures.labels(version.name).inc();
      this.logger.error(
        current
          ? `Loading ${version.name} v${version.version} failed; v${current.version} keeps serving`
          : `Loading ${version.name} v${version.version} failed; the model is not served`,
        { ...fields, 'event.outcome': 'failure', 'error.message': message },
      );
      return;
    } finally {
      this.loading.delete(version.name);
    }
    if (this.stopped) {
      void this.retire(loaded);
      return;
    }
    // The switch: one Map write. Requests that already hold `current` finish on it.
    this.production.set(version.name, loaded);
    this.failures.delete(version.name);
    this.setInfo(loaded, 'Production');
    // Both series exist from the first load, so that increase() and rate() see their first increment.
    this.metrics.modelLoadFailures.labels(version.name).inc(0);
    this.metrics.modelSwaps.labels(version.name).inc(current ? 1 : 0);
    if (current) {
      void this.retire(current);
    }
    this.logger.info(
      current
        ? `Swapped ${version.name} v${current.version} → v${version.version}`
        : `Serving ${version.name} v${version.version}`,
      { ...fields, 'event.outcome': 'success' },
    );
  }

  /** A version already loaded on demand becomes the Production one without a second load. */
  private async takeOnDemand(version: ModelVersion): Promise<LoadedModel | undefined> {
    const key = `${version.name}@${version.version}`;
    const entry = this.onDemand.get(key);
    if (!entry) return undefined;
    this.onDemand.delete(key);
    const model = await entry.catch(() => undefined);
    if (model?.sha256 !== version.sha256) return undefined;
    return model;
  }

  private async load(version: ModelVersion, production: boolean): Promise<LoadedModel> {
    const bytes = await this.registry.readArtifact(version);
    const session = await OnnxModelSession.load(bytes, version.signature);
    const model = new LoadedModel(
      version,
      session,
      this.batcherOptions,
      this.metrics,
      this.config.METRICS_ENABLED,
    );
    if (!production) this.setInfo(model, version.stage);
    return model;
  }

  private evictOnDemand(): void {
    while (this.onDemand.size > this.config.MAX_LOADED_VERSIONS) {
      const [key, oldest] = this.onDemand.entries().next().value as [string, Promise<LoadedModel>];
      this.onDemand.delete(key);
      void oldest.then((model) => this.retire(model)).catch(() => undefined);
    }
  }

  private readonly infoLabels = new WeakMap<LoadedModel, [string, string, string, string]>();

  private setInfo(model: LoadedModel, stage: string): void {
    const previous = this.infoLabels.get(model);
    if (previous) this.metrics.modelInfo.remove(...previous);
    const labels: [string, string, string, string] = [model.name, model.versionLabel, stage, model.sha256];
    this.metrics.modelInfo.labels(...labels).set(1);
    this.infoLabels.set(model, labels);
  }

  private async retire(model: LoadedModel): Promise<void> {
    const labels = this.infoLabels.get(model);
    if (labels) this.metrics.modelInfo.remove(...labels);
    await model.retire();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
