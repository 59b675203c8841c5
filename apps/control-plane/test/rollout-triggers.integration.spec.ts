import { Queue } from 'bullmq';
import { type AdvanceJobData, RolloutQueue } from '../src/rollouts/rollout-queue';
import { RolloutTriggers } from '../src/rollouts/rollout-triggers';
import { testServices, uniqueSuffix } from './support/test-environment';

/**
 * Step requests of rollouts on a real Redis queue (no worker: the requests stay waiting, where they can be
 * counted). Requests made while one is being added share one more, added after it.
 */
describe('rollout step requests', () => {
  let queue: Queue<AdvanceJobData>;
  let triggers: RolloutTriggers;
  let adds: jest.SpyInstance;

  beforeAll(() => {
    queue = new Queue<AdvanceJobData>(RolloutQueue.Engine, {
      connection: { url: testServices.redisUrl },
      prefix: `emofleet-test-${uniqueSuffix()}`,
    });
    triggers = new RolloutTriggers(queue);
    adds = jest.spyOn(queue, 'add');
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('makes a burst of requests for one rollout two additions, and each rollout gets its step', async () => {
    adds.mockClear();
    const burst = Array.from({ length: 200 }, (_, index) =>
      triggers.advance(index % 10 === 0 ? 'other' : 'busy'),
    );
    await Promise.all(burst);
    // Per rollout: the first request, then one shared by everyone who asked while it was being added.
    const added = adds.mock.calls.map(([, data]) => (data as AdvanceJobData).rolloutId);
    expect(added.filter((id) => id === 'busy')).toHaveLength(2);
    expect(added.filter((id) => id === 'other')).toHaveLength(2);
    // Deduplicated in the queue: one waiting step per rollout.
    const waiting = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(waiting.map((job) => job.data.rolloutId).sort()).toEqual(['busy', 'other']);
  });

  it('adds a request of its own once the earlier ones were added', async () => {
    await triggers.advance('later');
    adds.mockClear();
    await triggers.advance('later');
    expect(adds).toHaveBeenCalledTimes(1);
  });

  it('gives the follow-up to those who asked while a failing addition was under way', async () => {
    adds.mockClear();
    adds.mockRejectedValueOnce(new Error('Redis went away'));
    const first = triggers.advance('failing');
    const second = triggers.advance('failing');
    await expect(first).rejects.toThrow('Redis went away');
    await expect(second).resolves.toBeUndefined();
    expect(adds).toHaveBeenCalledTimes(2);
  });
});
