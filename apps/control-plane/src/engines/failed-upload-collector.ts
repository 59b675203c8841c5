import { Inject, Injectable, Logger } from '@nestjs/common';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { EngineBuildsRepository } from './engine-builds.repository';

/**
 * Garbage-collects engines that builders uploaded for attempts that then failed (FAILED, TIMED_OUT, CANCELED,
 * a mismatching report) or for builds that moved on during the upload: the blob is deleted from the artifact
 * store unless another row still refers to it (another build's engine, a model version's file or manifest).
 */
@Injectable()
export class FailedUploadCollector {
  private readonly logger = new Logger(FailedUploadCollector.name);

  constructor(
    private readonly builds: EngineBuildsRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {}

  /** Releases the build's uploaded engine (unless it succeeded) and deletes it when unreferenced. */
  async collectBuild(cacheKey: string): Promise<string | undefined> {
    const sha256 = await this.builds.releaseUpload(cacheKey);
    if (sha256 === undefined) return undefined;
    return (await this.collectArtifact(sha256)) ? sha256 : undefined;
  }

  /** Deletes the artifact when nothing refers to it; true when it was deleted. */
  async collectArtifact(sha256: string): Promise<boolean> {
    if (await this.builds.artifactReferenced(sha256)) return false;
    await this.store.delete(sha256);
    this.logger.log(`deleted engine ${sha256}, uploaded by a build attempt that did not succeed`);
    return true;
  }
}
