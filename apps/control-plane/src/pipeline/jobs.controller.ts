import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import { PipelineJobDto } from './pipeline-job.dto';
import { PipelineService } from './pipeline.service';

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly pipeline: PipelineService) {}

  @Get(':id')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'A pipeline job: status, progress (%), logs and result, kept after Redis forgets it',
  })
  @ZodResponse({ type: PipelineJobDto })
  get(@Param('id') id: string): Promise<PipelineJobDto> {
    return this.pipeline.get(id);
  }
}
