import { Global, Module } from '@nestjs/common';
import { AppLogger } from './logger';
import { Metrics } from './metrics';

@Global()
@Module({
  providers: [AppLogger, Metrics],
  exports: [AppLogger, Metrics],
})
export class TelemetryModule {}
