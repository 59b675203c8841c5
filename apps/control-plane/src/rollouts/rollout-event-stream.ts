import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { writeChunk } from '../events/response-writer';
import { STREAM_SETTLE_MS } from '../events/event-stream.service';
import { RolloutEventsRepository, toRolloutEventDto } from './rollout-events.repository';

const POLL_MS = 500;
const PAGE = 500;
const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events of rollout transitions (`event: rollout-event`, `id:` the event id): the stored events
 * after `Last-Event-ID` first, then new ones as they settle, so a client that reconnects with the last id it
 * saw misses nothing and gets nothing twice (the same settling rule as the emotion event stream).
 */
@Injectable()
export class RolloutEventStream {
  constructor(private readonly events: RolloutEventsRepository) {}

  async stream(
    rolloutId: string | undefined,
    afterId: number | undefined,
    request: Request,
    response: Response,
  ): Promise<void> {
    let open = true;
    let wake: (() => void) | undefined;
    request.on('close', () => {
      open = false;
      wake?.();
    });
    response.status(200);
    response.setHeader('content-type', 'text/event-stream; charset=utf-8');
    response.setHeader('cache-control', 'no-cache, no-transform');
    response.setHeader('connection', 'keep-alive');
    response.setHeader('x-accel-buffering', 'no');
    response.flushHeaders();
    await writeChunk(response, 'retry: 2000\n\n');
    let lastId = afterId;
    let lastWrite = Date.now();
    try {
      while (open) {
        const rows = await this.events.page({
          rolloutId,
          afterId: lastId,
          limit: PAGE,
          settledMs: STREAM_SETTLE_MS,
        });
        for (const row of rows) {
          await writeChunk(
            response,
            `id: ${row.id}\nevent: rollout-event\ndata: ${JSON.stringify(toRolloutEventDto(row))}\n\n`,
          );
          lastId = row.id;
          lastWrite = Date.now();
        }
        if (rows.length === PAGE) continue;
        if (Date.now() - lastWrite >= HEARTBEAT_MS) {
          await writeChunk(response, ': keep-alive\n\n');
          lastWrite = Date.now();
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      response.end();
    }
  }
}
