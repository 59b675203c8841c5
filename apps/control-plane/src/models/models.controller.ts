import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ZodResponse } from 'nestjs-zod';
import '../auth/principal';
import { RequireRole } from '../auth/roles';
import {
  ModelListDto,
  ModelParamsDto,
  ModelVersionCreatedDto,
  ModelVersionDetailDto,
  ModelVersionListDto,
  VersionFromPathDto,
  VersionParamsDto,
} from './model.dto';
import { ModelsService } from './models.service';

@ApiTags('models')
@Controller('models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Models with their version counts' })
  @ZodResponse({ type: ModelListDto })
  list(): Promise<ModelListDto> {
    return this.models.list();
  }

  @Get(':name/versions')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Versions of a model, newest first, with status and lineage' })
  @ZodResponse({ type: ModelVersionListDto })
  versions(@Param() params: ModelParamsDto): Promise<ModelVersionListDto> {
    return this.models.versions(params.name);
  }

  @Get(':name/versions/:version')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'One version: lineage, per-layer analysis, files, signed manifests, jobs, baseline',
  })
  @ZodResponse({ type: ModelVersionDetailDto })
  version(@Param() params: VersionParamsDto): Promise<ModelVersionDetailDto> {
    return this.models.version(params.name, params.version);
  }

  @Post(':name/versions')
  @HttpCode(201)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Upload a version (streamed multipart: cfg, weights, names, optional evalSet zip/tar)',
    description:
      'Text fields: `transform` (repeatable: `fold-batch-norm`, `replace-3x3-with-1x1:3,7,11`), `parentVersion`. ' +
      'A two-stage bundle adds `classifierCfg`, `classifierWeights`, `classifierNames` (a classifier run on each ' +
      'detected box) and `bundle` (bundle.json: input preparation of both networks, thresholds, label mapping). ' +
      '`calibrationSet` (zip/tar of images, labels optional, checked like the eval set) is what ' +
      '`POST …/quantize` calibrates an INT8 plan on. ' +
      'Validated with libs/darknet before it is accepted; 413 over a size limit, 422 for an invalid model.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['cfg', 'weights', 'names'],
      properties: {
        cfg: { type: 'string', format: 'binary' },
        weights: { type: 'string', format: 'binary' },
        names: { type: 'string', format: 'binary' },
        evalSet: { type: 'string', format: 'binary' },
        calibrationSet: { type: 'string', format: 'binary' },
        classifierCfg: { type: 'string', format: 'binary' },
        classifierWeights: { type: 'string', format: 'binary' },
        classifierNames: { type: 'string', format: 'binary' },
        bundle: { type: 'string', format: 'binary' },
        transform: { type: 'array', items: { type: 'string' } },
        parentVersion: { type: 'integer' },
      },
    },
  })
  @ZodResponse({ status: 201, type: ModelVersionCreatedDto })
  upload(@Param() params: ModelParamsDto, @Req() request: Request): Promise<ModelVersionCreatedDto> {
    return this.models.createFromUpload(params.name, request, uploaderOf(request));
  }

  @Post(':name/versions/from-path')
  @HttpCode(201)
  @RequireRole('admin')
  @ApiOperation({ summary: "Create a version from files on the control plane's file system" })
  @ZodResponse({ status: 201, type: ModelVersionCreatedDto })
  fromPath(
    @Param() params: ModelParamsDto,
    @Body() body: VersionFromPathDto,
    @Req() request: Request,
  ): Promise<ModelVersionCreatedDto> {
    return this.models.createFromPaths(params.name, body, uploaderOf(request));
  }
}

function uploaderOf(request: Request): string {
  return request.principal ? `token:${request.principal.name}` : 'anonymous';
}
