import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  Headers,
  Param,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import { EventExportService } from './event-export.service';
import { EventStreamService } from './event-stream.service';
import {
  EventAggregateQueryDto,
  EventAggregatesDto,
  EventContinuityDto,
  EventDeleteQueryDto,
  EventDeletionDto,
  EventExportQueryDto,
  EventListDto,
  EventListQueryDto,
  EventStreamQueryDto,
} from './events.dto';
import { EventsService, toEventFilter } from './events.service';

@ApiTags('events')
@Controller('events')
@RequireRole('viewer')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly exporter: EventExportService,
    private readonly streams: EventStreamService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Emotion events matching the filters, in global id order, one page at a time (keyset cursor)',
  })
  @ZodResponse({ type: EventListDto })
  list(@Query() query: EventListQueryDto): Promise<EventListDto> {
    return this.events.list(query);
  }

  @Get('export')
  @ApiOperation({ summary: 'Every event matching the filters as CSV or NDJSON, streamed in id order' })
  @ApiProduces('text/csv', 'application/x-ndjson')
  async export(
    @Query() query: EventExportQueryDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await this.exporter.export(toEventFilter(query), query.format, request, response);
  }

  @Get('stream')
  @ApiOperation({
    summary:
      'Server-Sent Events of the events matching the filters: stored ones after Last-Event-ID first, then live',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  async stream(
    @Query() query: EventStreamQueryDto,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const resumeFrom = lastEventIdHeader ?? query.lastEventId;
    if (resumeFrom !== undefined && !/^\d{1,15}$/.test(resumeFrom)) {
      throw new BadRequestException('Last-Event-ID: must be an event id');
    }
    const filter = toEventFilter(query);
    await this.streams.stream(
      filter,
      resumeFrom === undefined ? undefined : Number(resumeFrom),
      request,
      response,
    );
  }

  @Get('aggregates')
  @ApiOperation({ summary: 'Event counts per time bucket and label, device or device tag' })
  @ZodResponse({ type: EventAggregatesDto })
  aggregates(@Query() query: EventAggregateQueryDto): Promise<EventAggregatesDto> {
    return this.events.aggregates(query);
  }

  @Get('continuity/:deviceId')
  @ApiOperation({
    summary: "A device's event sequence: acknowledged frontier, declared losses and gaps not (yet) received",
  })
  @ZodResponse({ type: EventContinuityDto })
  continuity(@Param('deviceId') deviceId: string): Promise<EventContinuityDto> {
    return this.events.continuity(deviceId);
  }

  @Delete()
  @RequireRole('admin')
  @ApiOperation({ summary: "Delete a device's events in a time range (privacy); audited" })
  @ZodResponse({ type: EventDeletionDto })
  delete(@Query() query: EventDeleteQueryDto): Promise<EventDeletionDto> {
    return this.events.delete(query);
  }
}
