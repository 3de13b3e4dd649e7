import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { InteropModule } from './interop/interop.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { PredictionModule } from './prediction/prediction.module';
import { RegistryModule } from './registry/registry.module';
import { TelemetryModule } from './telemetry/telemetry.module';
import { WebModule } from './web/web.module';

@Module({})
export class AppModule {
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TelemetryModule,
        DatabaseModule,
        RegistryModule,
        HealthModule,
        PredictionModule,
        InteropModule,
        MonitoringModule,
        WebModule,
      ],
    };
  }
}
