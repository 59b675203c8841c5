import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { UnrecoverableError } from 'bullmq';
import { ownMemory, type ThreadError, type ThreadMessage } from './convert-thread-messages';
import { type ConversionEvent, type ConversionInput, type ConversionOutput } from './convert-work';

/**
 * Runs `runConversion` in a worker thread, so the BullMQ worker's event loop stays free (lock renewal, other
 * jobs, HTTP) while the CPU-bound export and verification run. The weights are transferred to the thread and
 * the exports back, never copied. `onEvent` sees the thread's events in order, each awaited before the next;
 * the result (or the thread's error, an `UnrecoverableError` again when it was one) comes after the last.
 */
export function convertInThread(
  input: ConversionInput,
  onEvent: (event: ConversionEvent) => Promise<void>,
): Promise<ConversionOutput> {
  const weights = ownMemory(input.weights);
  const script = threadScript();
  const worker = new Worker(script.filename, {
    ...script.options,
    workerData: { ...input, weights },
    transferList: [weights.buffer as ArrayBuffer],
  });
  return new Promise<ConversionOutput>((resolve, reject) => {
    let relayed = Promise.resolve();
    let settled = false;
    const settle = (outcome: () => ConversionOutput) => {
      relayed = relayed.then(() => {
        if (settled) return;
        settled = true;
        try {
          resolve(outcome());
        } catch (error) {
          reject(asError(error));
        }
      });
      void relayed.finally(() => worker.terminate());
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(asError(error));
      void worker.terminate();
    };
    worker.on('message', (message: ThreadMessage) => {
      switch (message.kind) {
        case 'event':
          relayed = relayed.then(() => (settled ? undefined : onEvent(message.event))).catch(fail);
          break;
        case 'done':
          settle(() => ({
            files: message.output.files.map((file) => ({ ...file, bytes: asBuffer(file.bytes) })),
            verified: message.output.verified,
          }));
          break;
        case 'failed':
          settle(() => {
            throw jobError(message.error);
          });
          break;
      }
    });
    worker.on('error', (error) =>
      settle(() => {
        throw error;
      }),
    );
    worker.on('exit', (code) =>
      settle(() => {
        throw new Error(`the conversion thread stopped (exit code ${code}) before it finished`);
      }),
    );
  });
}

/**
 * The thread's script: `convert-thread.js` next to this file in the built control plane (dist), else the
 * TypeScript source, required through tsx's CommonJS hook (tests, `node --import tsx`; Node 20 does not apply
 * `--import` to worker threads), with the control plane's tsconfig so that `@emofleet/*` resolve to their
 * sources as they do in this process.
 */
function threadScript(): { filename: string; options: WorkerOptions } {
  const compiled = join(__dirname, 'convert-thread.js');
  if (existsSync(compiled)) return { filename: compiled, options: {} };
  const source = join(__dirname, 'convert-thread.ts');
  return {
    filename: `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(source)});`,
    options: {
      eval: true,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '..', '..', 'tsconfig.json') },
    },
  };
}

function jobError(error: ThreadError): Error {
  const rebuilt = error.unrecoverable ? new UnrecoverableError(error.message) : new Error(error.message);
  if (!error.unrecoverable) rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

const asBuffer = (view: Uint8Array): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
