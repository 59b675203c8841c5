import { Controller, HttpCode, Param, Put, Req } from '@nestjs/common';
import { ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../auth/roles';
import { CacheKeyParamsDto, EngineUploadResultDto } from './engine.dto';
import { ENGINE_SHA256_HEADER, EngineUploadService } from './engine-upload.service';

/**
 * The builder device's upload of an engine. `@Public()` for the global token guard because the device
 * authenticates with its own credentials, which `EngineUploadService` checks.
 */
@ApiTags('engines')
@Controller('engine-builds')
export class EngineUploadController {
  constructor(private readonly uploads: EngineUploadService) {}

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
