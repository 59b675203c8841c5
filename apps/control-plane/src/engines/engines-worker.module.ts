import { Module } from '@nestjs/common';
import { EngineBuildProcessor } from './engine-build.processor';
import { EngineBuildResumer } from './engine-build.resumer';
import { EnginesCoreModule } from './engines-core.module';

/**
 * TensorRT engine builds, worker role (like convert and benchmark): the `engine-build` processor, which sends
 * `build-engine` device jobs and follows them, and the resumer that re-queues unfinished builds at start.
 */
@Module({
  imports: [EnginesCoreModule],
  providers: [EngineBuildProcessor, EngineBuildResumer],
})
export class EnginesWorkerModule {}
