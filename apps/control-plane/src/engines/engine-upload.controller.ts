import { pipeline } from 'node:stream/promises';
import { Controller, Get, HttpCode, Param, Put, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../auth/roles';
import { CacheKeyParamsDto, EngineUploadResultDto } from './engine.dto';
import { ENGINE_SHA256_HEADER, EngineUploadService } from './engine-upload.service';

/**
 * The builder device's download of an int8 build's calibration cache and upload of an engine. `@Public()` for the
 * global token guard because the device authenticates with its own credentials, which `EngineUploadService` checks.
 */
@ApiTags('engines')
@Controller('engine-builds')
export class EngineUploadController {
  constructor(private readonly uploads: EngineUploadService) {}

  @Get(':cacheKey/calibration-cache')
  @Public()
  @ApiOperation({
    summary:
      "Download an int8 build's TensorRT calibration cache (the builder device, Basic <device id>:<secret>)",
    description:
      'Only the device whose build-engine job for this key is running may download it (403 otherwise); 404 for ' +
      'a build that is not int8. The build-engine order carries its sha256 and size, which the builder checks.',
  })
  @ApiProduces('application/octet-stream')
  async calibrationCache(
    @Param() params: CacheKeyParamsDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const cache = await this.uploads.calibrationCache(params.cacheKey, request);
    response.status(200);
    response.setHeader('Content-Type', 'application/octet-stream');
    response.setHeader('Content-Length', String(cache.sizeBytes));
    response.setHeader('ETag', `"${cache.sha256}"`);
    response.setHeader('Cache-Control', 'private, no-store');
    await pipeline(cache.stream, response);
  }

  @Put(':cacheKey/engine')
  @Public()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Upload a built engine (the builder device, Basic <device id>:<secret>; streamed body)',
    description:
      'Only the device whose build-engine job for this key is running may upload; 422 when the body does not ' +
      'have the stated sha256, 413 above ENGINE_UPLOAD_MAX_BYTES.',
  })
  @ApiConsumes('application/octet-stream')
  @ApiHeader({
    name: ENGINE_SHA256_HEADER,
    required: true,
    description: 'sha256 of the body, lower-case hex',
  })
  @ZodResponse({ status: 201, type: EngineUploadResultDto })
  upload(@Param() params: CacheKeyParamsDto, @Req() request: Request): Promise<EngineUploadResultDto> {
    return this.uploads.receive(params.cacheKey, request);
  }
}
