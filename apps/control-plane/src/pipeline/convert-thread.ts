import { parentPort, workerData } from 'node:worker_threads';
import { UnrecoverableError } from 'bullmq';
import { type ConversionInput, runConversion } from './convert-work';
import { type ThreadMessage, transferablesOf } from './convert-thread-messages';

/**
 * Worker thread entry of `convert` (started by `convertInThread`): runs `runConversion` on the input in
 * `workerData` and posts its events, then its outputs (their bytes transferred) or its error, to the parent.
 */
const port = parentPort;
if (!port) throw new Error('convert-thread runs only as a worker thread (see convertInThread)');

const post = (message: ThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

runConversion(workerData as ConversionInput, (event) =>
  post(
    { kind: 'event', event },
    event.type === 'transformed' && event.weights ? transferablesOf([event.weights]) : [],
  ),
).then(
  (output) => post({ kind: 'done', output }, transferablesOf(output.files.map((file) => file.bytes))),
  (error: unknown) =>
    post({
      kind: 'failed',
      error: {
        message: error instanceof Error ? error.message : String(error),
        name: error instanceof Error ? error.name : 'Error',
        stack: error instanceof Error ? error.stack : undefined,
        unrecoverable: error instanceof UnrecoverableError,
      },
    }),
);
