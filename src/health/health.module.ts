import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { InferenceModule } from '../inference/inference.module';
import { RegistryModule } from '../registry/registry.module';
import { HealthController } from './health.controller';
import { ReadinessIndicators } from './readiness.indicators';
import { ShutdownService } from './shutdown.service';

/** Liveness/readiness, and the graceful-shutdown coordinator (global: anyone may register a drain hook). */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), InferenceModule, RegistryModule],
  controllers: [HealthController],
  providers: [ReadinessIndicators, ShutdownService],
  exports: [ShutdownService],
})
export class HealthModule {}
