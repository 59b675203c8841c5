import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { streamServerSentEvents } from '../http/server-sent-events';
import { type EventFilter } from './event-filter';
import { EventsQueryRepository } from './events-query.repository';
import { toEventDto } from './events.service';
import { StoredEventsSignal } from './stored-events-signal';

/** Events a stream waits before delivering them (see `EventsQueryRepository.page`). */
export const STREAM_SETTLE_MS = 1000;

/**
 * Server-Sent Events (`event: emotion-event`) of the events matching a filter: everything after `Last-Event-ID`
 * from the database first, then new events as they are stored, each with its global id as the SSE id. A stream
 * waiting for events wakes when this replica stores some, and polls for those other replicas store.
 */
@Injectable()
export class EventStreamService {
  constructor(
    private readonly query: EventsQueryRepository,
    private readonly storedSignal: StoredEventsSignal,
  ) {}

  stream(
    filter: EventFilter,
    afterId: number | undefined,
    request: Request,
    response: Response,
  ): Promise<void> {
    return streamServerSentEvents(
      {
        eventName: 'emotion-event',
        page: (after, limit) => this.query.page(filter, after, limit, STREAM_SETTLE_MS),
        toData: toEventDto,
        idle: (timeoutMs) => this.storedSignal.wait(timeoutMs),
      },
      afterId,
      request,
      response,
    );
  }
}
