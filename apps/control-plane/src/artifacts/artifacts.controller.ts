import {
  Controller,
  ForbiddenException,
  Get,
  Inject,
  NotFoundException,
  Param,
  Req,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { pipeline } from 'node:stream/promises';
import { Public } from '../auth/roles';
import { DEVICE_ARTIFACT_ACCESS, type DeviceArtifactAccess } from './artifact-requester';
import { ArtifactRequesterResolver } from './artifact-requester.resolver';
import { ARTIFACT_STORE, type ArtifactStore, SHA256_PATTERN } from './artifact-store';
import { SigningKeyDto } from './artifacts.dto';
import { interpretRange } from './byte-range';
import { ManifestSigner } from './manifest-signer';

/**
 * Device-facing artifact downloads. `@Public()` for the global token guard because devices authenticate with
 * their own credentials; `ArtifactRequesterResolver` authenticates every request here itself.
 */
@ApiTags('artifacts')
@Controller()
export class ArtifactsController {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(DEVICE_ARTIFACT_ACCESS) private readonly deviceAccess: DeviceArtifactAccess,
    private readonly requesters: ArtifactRequesterResolver,
    private readonly signer: ManifestSigner,
  ) {}

  @Get('artifacts/:sha256')
  @Public()
  @ApiOperation({
    summary: 'Download an artifact by sha256 (HTTP Range, If-Range; ETag is the sha256)',
    description:
      'Devices authenticate with Basic <device id>:<secret> and may fetch only artifacts of the model desired ' +
      'for them or the input of an engine build assigned to them; API tokens (viewer) may fetch any artifact.',
  })
  @ApiParam({ name: 'sha256', description: '64 lower-case hex digits' })
  @ApiHeader({ name: 'Range', required: false, description: 'bytes=<start>-<end>, one range' })
  @ApiProduces('application/octet-stream')
  @ApiResponse({ status: 200, description: 'the whole artifact' })
  @ApiResponse({ status: 206, description: 'the requested byte range' })
  @ApiResponse({ status: 416, description: 'the range starts past the end' })
  async download(
    @Param('sha256') sha256: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    if (!SHA256_PATTERN.test(sha256))
      throw new NotFoundException(`"${sha256}" is not a sha256 (64 lower-case hex digits)`);
    const requester = await this.requesters.resolve(request);
    if (requester.kind === 'device' && !(await this.deviceAccess.mayDownload(requester.deviceId, sha256))) {
      throw new ForbiddenException(`device ${requester.deviceId} may not download artifact ${sha256}`);
    }
    const stored = await this.store.stat(sha256);
    if (!stored) throw new NotFoundException(`no artifact with sha256 ${sha256}`);

    const etag = `"${sha256}"`;
    response.setHeader('ETag', etag);
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    response.setHeader('Content-Type', 'application/octet-stream');
    if (request.headers['if-none-match']?.split(',').some((tag) => tag.trim() === etag)) {
      response.status(304).end();
      return;
    }
    const ifRange = request.get('if-range');
    const rangeHeader = ifRange === undefined || ifRange.trim() === etag ? request.get('range') : undefined;
    const range = interpretRange(rangeHeader, stored.sizeBytes);
    switch (range.kind) {
      case 'unsatisfiable':
        response.status(416).setHeader('Content-Range', `bytes */${stored.sizeBytes}`);
        response.json({
          error: {
            status: 416,
            code: 'range_not_satisfiable',
            message: `range ${rangeHeader ?? ''} is outside the artifact's ${stored.sizeBytes} bytes`,
          },
        });
        return;
      case 'partial': {
        const { start, end } = range.range;
        response.status(206);
        response.setHeader('Content-Range', `bytes ${start}-${end}/${stored.sizeBytes}`);
        response.setHeader('Content-Length', String(end - start + 1));
        await pipeline(await this.store.openRead(sha256, range.range), response);
        return;
      }
      case 'whole':
        response.status(200).setHeader('Content-Length', String(stored.sizeBytes));
        await pipeline(await this.store.openRead(sha256), response);
        return;
    }
  }

  @Get('signing-key')
  @Public()
  @ApiOperation({ summary: "The control plane's ed25519 public key that signs model manifests (PEM, SPKI)" })
  @ZodResponse({ type: SigningKeyDto })
  signingKey(): SigningKeyDto {
    return { algorithm: 'ed25519', publicKeyPem: this.signer.publicKeyPem };
  }
}
