import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import { VersionParamsDto } from '../models/model.dto';
import { QuantizationRequestDto, QuantizationStartedDto } from './quantization-request.dto';
import { QuantizationRequests } from './quantization-requests.service';

@ApiTags('models')
@Controller('models')
export class QuantizationController {
  constructor(private readonly quantization: QuantizationRequests) {}

  @Post(':name/versions/:version/quantize')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Calibrate an INT8 plan for a ready version and gate it on eval-set accuracy',
    description:
      'Needs a version uploaded with `calibrationSet` and `evalSet`. The version is `quantizing` until the job ' +
      'marks it `ready` (accuracy drop within the budget; files `int8-plan` and `tensorrt-calibration-cache` ' +
      'added) or `failed` with the report. 404 unknown version, 409 not ready or already quantised, 422 files ' +
      'missing.',
  })
  @ZodResponse({ status: 202, type: QuantizationStartedDto })
  request(
    @Param() params: VersionParamsDto,
    @Body() body: QuantizationRequestDto,
  ): Promise<QuantizationStartedDto> {
    return this.quantization.request(params.name, params.version, body.maxAccuracyDropPoints);
  }
}
