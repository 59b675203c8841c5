import { Module } from '@nestjs/common';
import { EnginesCoreModule } from './engines-core.module';
import { EngineUploadController } from './engine-upload.controller';
import { EngineUploadService } from './engine-upload.service';
import { EnginesController } from './engines.controller';

export { engineBuildQueue } from './engines-core.module';

/**
 * TensorRT engine builds, api role: the REST API and the builders' upload. Exports `EngineBuildsService`
 * (`findEngine` for rollouts). The builds themselves run in the worker role (`EnginesWorkerModule`).
 */
@Module({
  imports: [EnginesCoreModule],
  controllers: [EnginesController, EngineUploadController],
  providers: [EngineUploadService],
  exports: [EnginesCoreModule],
})
export class EnginesModule {}
