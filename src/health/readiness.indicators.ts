import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ModelPoolService } from '../inference/model-pool.service';
import { RegistryService } from '../registry/registry.service';
import { ShutdownService } from './shutdown.service';

const REGISTRY_TIMEOUT_MS = 1500;

/** The components readiness reports on, each with its details. */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly pool: ModelPoolService,
    private readonly registry: RegistryService,
    private readonly shutdown: ShutdownService,
  ) {}

  /** Down while draining for shutdown. */
  lifecycle(): HealthIndicatorResult<'lifecycle'> {
    const session = this.indicators.check('lifecycle');
    return this.shutdown.draining
      ? session.down({ state: 'shutting_down' })
      : session.up({ state: 'running' });
  }

  /**
   * Up when every Production model has a version serving. A newer version that failed to load while the
   * previous one keeps serving is `degraded` (still ready: traffic is answered), with the failure shown.
   */
  models(): HealthIndicatorResult<'models'> {
    const session = this.indicators.check('models');
    const status = this.pool.status();
    const details = { initialized: status.initialized, models: status.models, onDemand: status.onDemand };
    if (!status.initialized) return session.down({ ...details, message: 'models are loading' });
    const missing = status.models.filter((model) => model.servingVersion === null).map((model) => model.name);
    if (missing.length > 0)
      return session.down({ ...details, message: `not serving: ${missing.join(', ')}` });
    const failed = status.models.some((model) => model.state === 'failed');
    return failed
      ? session.degraded({ ...details, message: 'a newer version failed to load' })
      : session.up(details);
  }

  /** The registry's store answers a real query (bounded). */
  registryStore(): PromiseLike<HealthIndicatorResult<'registry'>> {
    return this.indicators
      .check('registry')
      .attempt(async () => {
        const versions = await this.registry.listProductionVersions();
        return { productionVersions: versions.length };
      })
      .withTimeout(REGISTRY_TIMEOUT_MS);
  }
}
