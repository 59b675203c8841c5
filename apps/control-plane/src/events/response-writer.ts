import type { Response } from 'express';

/** Writes `chunk`, waiting for the socket to drain when its buffer is full (backpressure), or for it to close. */
export function writeChunk(response: Response, chunk: string): Promise<void> {
  if (response.destroyed || response.writableEnded) return Promise.resolve();
  if (response.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
