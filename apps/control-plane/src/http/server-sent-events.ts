import type { Request, Response } from 'express';
import { writeChunk } from '../events/response-writer';

/** Rows a stream reads from the database at a time. */
const PAGE = 500;
/** How long a stream that caught up waits before it looks again (unless its feed wakes it sooner). */
const POLL_MS = 500;
/** A comment line sent after this long without a frame, so proxies keep the connection open. */
const HEARTBEAT_MS = 15_000;

/** What one Server-Sent Events stream delivers: stored rows with increasing ids, read page by page. */
export interface ServerSentEventFeed<Row extends { readonly id: number }> {
  /** The `event:` field of every frame. */
  readonly eventName: string;
  /** Up to `limit` settled rows with an id above `afterId` (all of them when undefined), in id order. */
  page(afterId: number | undefined, limit: number): Promise<readonly Row[]>;
  /** The JSON body of a row's frame. */
  toData(row: Row): unknown;
  /** Resolves after `timeoutMs`, or sooner when new rows may have been stored. */
  idle(timeoutMs: number): Promise<void>;
}

/**
 * Streams `feed` as Server-Sent Events until the client goes away: the rows after `afterId` (the client's
 * `Last-Event-ID`) first, then new ones as they settle, each with its id as the SSE id, so a client that
 * reconnects with the last id it saw misses nothing and gets nothing twice. Writes wait for the socket to drain.
 */
export async function streamServerSentEvents<Row extends { readonly id: number }>(
  feed: ServerSentEventFeed<Row>,
  afterId: number | undefined,
  request: Request,
  response: Response,
): Promise<void> {
  let open = true;
  const closed = new Promise<void>((resolve) =>
    request.on('close', () => {
      open = false;
      resolve();
    }),
  );
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
      const rows = await feed.page(lastId, PAGE);
      for (const row of rows) {
        const data = JSON.stringify(feed.toData(row));
        await writeChunk(response, `id: ${row.id}\nevent: ${feed.eventName}\ndata: ${data}\n\n`);
        lastId = row.id;
        lastWrite = Date.now();
      }
      if (rows.length === PAGE) continue;
      if (Date.now() - lastWrite >= HEARTBEAT_MS) {
        await writeChunk(response, ': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await Promise.race([feed.idle(POLL_MS), closed]);
    }
  } finally {
    response.end();
  }
}
