import { Module } from '@nestjs/common';
import { MultipartModule } from '@nestjs/platform-fastify/multipart';
import { AdminTokenGuard } from '../common/admin-token.guard';
import { AppConfig } from '../config/config';
import { ArtifactStore } from './artifact.store';
import { OnnxInspector } from './onnx-inspector.adapter';
import { RegistryBootstrap } from './registry.bootstrap';
import { RegistryController } from './registry.controller';
import { RegistryService } from './registry.service';
import { RegistryStore } from './registry.store';
import { RunsController } from './runs.controller';
import { TrackingService } from './tracking.service';
import { TrackingStore } from './tracking.store';

/** Needs `DatabaseModule` (global) and `ConfigModule`/`TelemetryModule` (global). */
@Module({
  imports: [
    MultipartModule.registerAsync({
      inject: [AppConfig],
      // One more byte than the limit, so that the service sees an oversize file and answers 400.
      useFactory: (config: AppConfig) => ({
        limits: { fileSize: config.MAX_UPLOAD_BYTES + 1, files: 4, fieldSize: 16 * 1_048_576 },
      }),
    }),
  ],
  controllers: [RegistryController, RunsController],
  providers: [
    RegistryStore,
    TrackingStore,
    ArtifactStore,
    OnnxInspector,
    TrackingService,
    RegistryService,
    RegistryBootstrap,
    AdminTokenGuard,
  ],
  exports: [RegistryService, TrackingService],
})
export class RegistryModule {}
