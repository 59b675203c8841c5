import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import '../auth/principal';
import { RequireRole } from '../auth/roles';
import { type OperatorAction } from './operator-action';
import { RolloutEventStream } from './rollout-event-stream';
import {
  CreateRolloutDto,
  RolloutActionDto,
  RolloutDetailDto,
  RolloutEventListDto,
  RolloutEventQueryDto,
  RolloutListDto,
  RolloutListQueryDto,
  RolloutPreviewDto,
  RolloutStreamQueryDto,
} from './rollouts.dto';
import { type RolloutCaller, RolloutsService } from './rollouts.service';

function callerOf(request: Request): RolloutCaller {
  const principal = request.principal;
  return principal === undefined
    ? { audit: { tokenId: null, name: 'anonymous', role: null }, actor: 'anonymous' }
    : {
        audit: { tokenId: principal.tokenId, name: principal.name, role: principal.role },
        actor: `token:${principal.name}`,
      };
}

@ApiTags('rollouts')
@Controller('rollouts')
@RequireRole('viewer')
export class RolloutsController {
  constructor(
    private readonly rollouts: RolloutsService,
    private readonly stream: RolloutEventStream,
  ) {}

  @Post('preview')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The targets, their order and the devices each phase would start now; creates nothing',
  })
  @ZodResponse({ type: RolloutPreviewDto })
  preview(@Body() body: CreateRolloutDto): Promise<RolloutPreviewDto> {
    return this.rollouts.preview(body);
  }

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Start a staged, health-gated rollout of a model version to the devices a tag selector matches',
  })
  @ZodResponse({ status: 201, type: RolloutDetailDto })
  create(@Body() body: CreateRolloutDto, @Req() request: Request): Promise<RolloutDetailDto> {
    return this.rollouts.create(body, callerOf(request));
  }

  @Get()
  @ApiOperation({ summary: 'Rollouts, newest first, with their devices counted by state' })
  @ZodResponse({ type: RolloutListDto })
  list(@Query() query: RolloutListQueryDto): Promise<RolloutListDto> {
    return this.rollouts.list(query);
  }

  @Get('events')
  @ApiOperation({
    summary: 'Rollout transitions (rollout, phase and device states) in order, one page at a time',
  })
  @ZodResponse({ type: RolloutEventListDto })
  events(@Query() query: RolloutEventQueryDto): Promise<RolloutEventListDto> {
    return this.rollouts.listEvents(query);
  }

  @Get('events/stream')
  @ApiOperation({
    summary: 'Server-Sent Events of rollout transitions: stored ones after Last-Event-ID, then live',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  async streamEvents(
    @Query() query: RolloutStreamQueryDto,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const resumeFrom = lastEventIdHeader ?? query.lastEventId;
    if (resumeFrom !== undefined && !/^\d{1,15}$/.test(resumeFrom))
      throw new BadRequestException('Last-Event-ID: must be an event id');
    await this.stream.stream(
      query.rollout,
      resumeFrom === undefined ? undefined : Number(resumeFrom),
      request,
      response,
    );
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One rollout with its phases and every device: state, floors, measurements, jobs',
  })
  @ZodResponse({ type: RolloutDetailDto })
  get(@Param('id') id: string): Promise<RolloutDetailDto> {
    return this.rollouts.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Start the phase that waits for approval' })
  @ZodResponse({ type: RolloutDetailDto })
  approve(@Param('id') id: string, @Body() body: RolloutActionDto, @Req() request: Request) {
    return this.act(id, 'approve', body, request);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Start no further device (devices under way are still checked, and may abort it)',
  })
  @ZodResponse({ type: RolloutDetailDto })
  pause(@Param('id') id: string, @Body() body: RolloutActionDto, @Req() request: Request) {
    return this.act(id, 'pause', body, request);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Continue a paused rollout where it was' })
  @ZodResponse({ type: RolloutDetailDto })
  resume(@Param('id') id: string, @Body() body: RolloutActionDto, @Req() request: Request) {
    return this.act(id, 'resume', body, request);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'End the rollout where it is: devices not started are skipped, switched ones keep the new model',
  })
  @ZodResponse({ type: RolloutDetailDto })
  cancel(@Param('id') id: string, @Body() body: RolloutActionDto, @Req() request: Request) {
    return this.act(id, 'cancel', body, request);
  }

  @Post(':id/abort')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({ summary: 'End the rollout and roll every device it switched back to its previous model' })
  @ZodResponse({ type: RolloutDetailDto })
  abort(@Param('id') id: string, @Body() body: RolloutActionDto, @Req() request: Request) {
    return this.act(id, 'abort', body, request);
  }

  private act(id: string, action: OperatorAction, body: RolloutActionDto, request: Request) {
    return this.rollouts.act(id, action, callerOf(request), body.reason);
  }
}
