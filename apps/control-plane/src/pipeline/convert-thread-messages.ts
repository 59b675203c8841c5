import { type ConversionEvent, type ConversionOutput } from './convert-work';

/** What the conversion thread posts to its parent. */
export type ThreadMessage =
  | { kind: 'event'; event: ConversionEvent }
  | { kind: 'done'; output: ConversionOutput }
  | { kind: 'failed'; error: ThreadError };

/** An error of the thread, as plain data; `unrecoverable` for an `UnrecoverableError`. */
export interface ThreadError {
  message: string;
  name: string;
  stack: string | undefined;
  unrecoverable: boolean;
}

/**
 * The memory of the views that may be moved to the other thread: a view that covers its whole `ArrayBuffer`.
 * Others (small Buffers share Node's allocation pool) are copied, which costs little since they are small.
 */
export function transferablesOf(views: readonly Uint8Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) {
    if (
      view.buffer instanceof ArrayBuffer &&
      view.byteOffset === 0 &&
      view.byteLength === view.buffer.byteLength
    )
      buffers.add(view.buffer);
  }
  return [...buffers];
}

/** `view` itself when it owns its whole memory (so it can be transferred), else a copy that does. */
export function ownMemory(view: Uint8Array): Uint8Array {
  return transferablesOf([view]).length === 1 ? view : new Uint8Array(view);
}
