import { Injectable } from '@nestjs/common';
import { ArtifactUrls } from '../device-jobs/artifact-urls';

/**
 * The URLs a builder uses, on the same base as the artifact URLs devices get (HTTP_PUBLIC_URL, else this API's
 * listener): the ONNX download (`GET /artifacts/<sha256>`), the calibration cache of an int8 build
 * (`GET /engine-builds/<key>/calibration-cache`) and the engine upload (`PUT /engine-builds/<key>/engine`).
 */
@Injectable()
export class EngineBuildUrls {
  constructor(private readonly artifacts: ArtifactUrls) {}

  source(sha256: string): Promise<string> {
    return this.artifacts.forArtifact(sha256);
  }

  async upload(cacheKey: string, sourceSha256: string): Promise<string> {
    return `${await this.base(sourceSha256)}/engine-builds/${cacheKey}/engine`;
  }

  async calibrationCache(cacheKey: string, sourceSha256: string): Promise<string> {
    return `${await this.base(sourceSha256)}/engine-builds/${cacheKey}/calibration-cache`;
  }

  private async base(sourceSha256: string): Promise<string> {
    const artifactUrl = await this.artifacts.forArtifact(sourceSha256);
    return artifactUrl.slice(0, artifactUrl.length - `/artifacts/${sourceSha256}`.length);
  }
}
