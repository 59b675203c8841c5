import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import '../auth/principal';
import { RequireRole } from '../auth/roles';
import {
  CacheKeyParamsDto,
  EngineBuildDto,
  EngineBuildListDto,
  EngineRequestDto,
  EngineRequestResultDto,
  ModelVersionParamsDto,
} from './engine.dto';
import { EngineBuildsService } from './engine-builds.service';

@ApiTags('engines')
@Controller()
export class EnginesController {
  constructor(private readonly engines: EngineBuildsService) {}

  @Post('models/:versionId/engines')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Request the TensorRT engine of a ready model version for one device class',
    description:
      'Planned with libs/darknet (cache key over the ONNX sha256, GPU arch, TensorRT version, precision). ' +
      '200 with `cached: true` when the key is built (nothing is built again); 202 while it is queued or ' +
      'building on an online builder device of exactly that class (follow `jobId` with GET /jobs/:id).',
  })
  @ApiResponse({ status: 200, description: 'built before: the cached engine', type: EngineRequestResultDto })
  @ZodResponse({ status: 202, type: EngineRequestResultDto })
  async request(
    @Param() params: ModelVersionParamsDto,
    @Body() body: EngineRequestDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<EngineRequestResultDto> {
    const actor = request.principal ? `token:${request.principal.name}` : 'anonymous';
    const result = await this.engines.request(params.versionId, body, actor);
    if (result.cached) response.status(200);
    return result;
  }

  @Get('models/:versionId/engines')
  @RequireRole('viewer')
  @ApiOperation({ summary: "Engines of a model version's ONNX export, every class and status" })
  @ZodResponse({ type: EngineBuildListDto })
  async list(@Param() params: ModelVersionParamsDto): Promise<EngineBuildListDto> {
    return { items: await this.engines.listForVersion(params.versionId) };
  }

  @Get('engine-builds/:cacheKey')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'One engine build by cache key: status, builder, engine, timing, builder log' })
  @ZodResponse({ type: EngineBuildDto })
  get(@Param() params: CacheKeyParamsDto): Promise<EngineBuildDto> {
    return this.engines.get(params.cacheKey);
  }
}
