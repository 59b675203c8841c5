import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STREAM_SETTLE_MS } from '../events/event-stream.service';
import { streamServerSentEvents } from '../http/server-sent-events';
import { RolloutEventsRepository, toRolloutEventDto } from './rollout-events.repository';

/**
 * Server-Sent Events of rollout transitions (`event: rollout-event`, `id:` the event id), of one rollout or of
 * all: the stored events after `Last-Event-ID` first, then new ones as they settle (the same settling rule as the
 * emotion event stream).
 */
@Injectable()
export class RolloutEventStream {
  constructor(private readonly events: RolloutEventsRepository) {}

  stream(
    rolloutId: string | undefined,
    afterId: number | undefined,
    request: Request,
    response: Response,
  ): Promise<void> {
    return streamServerSentEvents(
      {
        eventName: 'rollout-event',
        page: (after, limit) =>
          this.events.page({ rolloutId, afterId: after, limit, settledMs: STREAM_SETTLE_MS }),
        toData: toRolloutEventDto,
        idle: (timeoutMs) => sleep(timeoutMs),
      },
      afterId,
      request,
      response,
    );
  }
}
