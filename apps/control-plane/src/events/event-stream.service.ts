import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type EventFilter } from './event-filter';
import { EventsQueryRepository } from './events-query.repository';
import { toEventDto } from './events.service';
import { StoredEventsSignal } from './stored-events-signal';
import { writeChunk } from './response-writer';

/** Events a stream waits before delivering them (see `EventsQueryRepository.page`). */
export const STREAM_SETTLE_MS = 1000;
/** How often a waiting stream looks for events stored by other replicas. */
const STREAM_POLL_MS = 500;
const STREAM_PAGE = 500;
const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events of the events matching a filter: everything after `Last-Event-ID` from the database first,
 * then new events as they are stored, each with its global id as the SSE id, so a client that reconnects with
 * `Last-Event-ID` misses nothing and gets nothing twice.
 */
@Injectable()
export class EventStreamService {
  constructor(
    private readonly query: EventsQueryRepository,
    private readonly storedSignal: StoredEventsSignal,
  ) {}

  async stream(
    filter: EventFilter,
    afterId: number | undefined,
    request: Request,
    response: Response,
  ): Promise<void> {
    let open = true;
    request.on('close', () => {
      open = false;
      this.storedSignal.notify();
    });
    response.status(200);
    response.setHeader('content-type', 'text/event-stream; charset=utf-8');
    response.setHeader('cache-control', 'no-cache, no-transform');
    response.setHeader('connection', 'keep-alive');
    response.setHeader('x-accel-buffering', 'no');
    response.flushHeaders();
    await writeChunk(response, `retry: 2000\n\n`);
    let lastId = afterId;
    let lastWrite = Date.now();
    try {
      while (open) {
        const rows = await this.query.page(filter, lastId, STREAM_PAGE, STREAM_SETTLE_MS);
        for (const row of rows) {
          await writeChunk(
            response,
            `id: ${row.id}\nevent: emotion-event\ndata: ${JSON.stringify(toEventDto(row))}\n\n`,
          );
          lastId = row.id;
          lastWrite = Date.now();
        }
        if (rows.length === STREAM_PAGE) continue;
        if (Date.now() - lastWrite >= HEARTBEAT_MS) {
          await writeChunk(response, ': keep-alive\n\n');
          lastWrite = Date.now();
        }
        await this.storedSignal.wait(STREAM_POLL_MS);
      }
    } finally {
      response.end();
    }
  }
}
