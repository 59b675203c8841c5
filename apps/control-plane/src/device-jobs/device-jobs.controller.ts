import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ZodResponse } from 'nestjs-zod';
import '../auth/principal';
import { RequireRole } from '../auth/roles';
import {
  CancelJobRequestDto,
  DesiredModelRequestDto,
  DeviceJobDetailDto,
  DeviceJobDto,
  DeviceJobListDto,
  DeviceJobListQueryDto,
  EnqueueJobRequestDto,
  toDeviceJobDetailDto,
  toDeviceJobDto,
} from './device-job.dto';
import { DeviceJobsService } from './device-jobs.service';

/** Desired models and job executions of devices (docs/device-jobs.md). */
@ApiTags('device jobs')
@Controller()
export class DeviceJobsController {
  constructor(private readonly jobs: DeviceJobsService) {}

  @Put('devices/:id/desired-model')
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Set the model a device should run (null: none); queues an apply-desired-state job',
    description:
      'Publishes the signed desired state (retained) and the job; an unfinished older apply job of the device ' +
      'is canceled. 404 unknown device, 409 decommissioned, 422 model version unknown or not ready.',
  })
  @ZodResponse({ type: DeviceJobDto })
  async setDesiredModel(
    @Param('id') deviceId: string,
    @Body() body: DesiredModelRequestDto,
    @Req() request: Request,
  ): Promise<DeviceJobDto> {
    const job = await this.jobs.assignModel({
      deviceId,
      modelVersionId: body.modelVersionId,
      healthCheck: body.healthCheck ?? null,
      timeoutMs: secondsToMs(body.timeoutSeconds),
      actor: actorOf(request),
    });
    return toDeviceJobDto(job);
  }

  @Post('devices/:id/jobs')
  @HttpCode(201)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Queue a rollback (to the previous model slot) or an evaluate job on a device' })
  @ZodResponse({ status: 201, type: DeviceJobDto })
  async enqueue(
    @Param('id') deviceId: string,
    @Body() body: EnqueueJobRequestDto,
    @Req() request: Request,
  ): Promise<DeviceJobDto> {
    const job = await this.jobs.enqueueJob({
      deviceId,
      operation: body.operation,
      parameters: body.parameters,
      timeoutMs: secondsToMs(body.timeoutSeconds),
      actor: actorOf(request),
    });
    return toDeviceJobDto(job);
  }

  @Get('devices/:id/jobs')
  @RequireRole('viewer')
  @ApiOperation({ summary: "A device's jobs, newest first (keyset pagination)" })
  @ZodResponse({ type: DeviceJobListDto })
  async list(
    @Param('id') deviceId: string,
    @Query() query: DeviceJobListQueryDto,
  ): Promise<DeviceJobListDto> {
    const page = await this.jobs.listForDevice(deviceId, { limit: query.limit, cursor: query.cursor });
    return { items: page.items.map(toDeviceJobDto), nextCursor: page.nextCursor };
  }

  @Get('device-jobs/:jobId')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'One job with its history of updates' })
  @ZodResponse({ type: DeviceJobDetailDto })
  async get(@Param('jobId') jobId: string): Promise<DeviceJobDetailDto> {
    return toDeviceJobDetailDto(await this.jobs.getWithHistory(jobId));
  }

  @Post('device-jobs/:jobId/cancel')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Cancel an unfinished job (409 when it is finished)',
    description: "The device learns it from its next update's rejection and from jobs/notify-next moving on.",
  })
  @ZodResponse({ type: DeviceJobDto })
  async cancel(
    @Param('jobId') jobId: string,
    @Body() body: CancelJobRequestDto,
    @Req() request: Request,
  ): Promise<DeviceJobDto> {
    return toDeviceJobDto(await this.jobs.cancel(jobId, body.reason, actorOf(request)));
  }
}

function actorOf(request: Request): string {
  return request.principal ? `token:${request.principal.name}` : 'anonymous';
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}
