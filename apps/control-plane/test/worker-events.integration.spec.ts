import { BullModule, Processor } from '@nestjs/bullmq';
import { type INestApplicationContext, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { LoggedWorkerHost } from '../src/queues/logged-worker-host';
import { eventually } from './support/eventually';
import { testServices, uniqueSuffix } from './support/test-environment';

jest.setTimeout(30_000);

const QUEUE = 'worker-events-test';

@Processor(QUEUE)
class TestProcessor extends LoggedWorkerHost {
  process(job: Job<{ fail: boolean }>): Promise<string> {
    if (job.data.fail) return Promise.reject(new Error('the input is not a network'));
    return Promise.resolve('done');
  }
}

/**
 * `LoggedWorkerHost` on a real BullMQ worker (Redis of the test services, a private prefix): the worker's
 * `error` events are logged once, under the processor's name, without crashing the process, and a failed job is
 * logged with its id and reason.
 */
describe('LoggedWorkerHost', () => {
  const prefix = `emofleet-test-${uniqueSuffix()}`;
  let app: INestApplicationContext;
  let processor: TestProcessor;
  let queue: Queue;
  let events: QueueEvents;

  beforeAll(async () => {
    @Module({
      imports: [
        BullModule.forRoot({
          connection: { url: testServices.redisUrl, maxRetriesPerRequest: null },
          prefix,
        }),
        BullModule.registerQueue({ name: QUEUE }),
      ],
      providers: [TestProcessor],
    })
    class TestModule {}
    app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    await app.init();
    processor = app.get(TestProcessor);
    const connection = { url: testServices.redisUrl };
    queue = new Queue(QUEUE, { connection, prefix });
    events = new QueueEvents(QUEUE, { connection, prefix });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events.close();
    await app.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });

  afterEach(() => jest.restoreAllMocks());

  it("logs the worker's error events once, and the worker keeps processing", async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(processor.worker.listenerCount('error')).toBe(1);

    // What BullMQ emits when its Redis connection or a lock renewal fails.
    expect(() => processor.worker.emit('error', new Error('Connection is closed.'))).not.toThrow();

    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]?.[0]).toBe('worker error: Connection is closed.');
    expect(logged.mock.contexts[0]).toMatchObject({ context: 'TestProcessor' });
    const job = await queue.add('ok', { fail: false });
    expect(await job.waitUntilFinished(events, 20_000)).toBe('done');
  });

  it('logs a failed job with its id, attempt and reason', async () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const job = await queue.add('convert', { fail: true }, { attempts: 1 });
    await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow('the input is not a network');
    // The queue's event can reach this process before the worker's own `failed` listener ran.
    await eventually(
      () => Promise.resolve(warned.mock.calls.length),
      (count) => count > 0,
      { what: 'the failed job logged' },
    );

    expect(warned.mock.calls.map((call) => String(call[0]))).toEqual([
      `job ${job.id} (convert) failed, attempt 1 of 1: the input is not a network`,
    ]);
  });
});
