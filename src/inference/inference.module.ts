import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { ModelPoolService } from './model-pool.service';

@Module({
  imports: [RegistryModule],
  providers: [ModelPoolService],
  exports: [ModelPoolService],
})
export class InferenceModule {}
