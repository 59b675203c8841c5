import { Logger } from '@nestjs/common';
import { StatementBatcher } from './statement-batcher';

/** The batching rules on their own; the statements themselves are tested against PostgreSQL and PGlite. */
describe('StatementBatcher', () => {
  const logger = new Logger('statement-batcher.spec');
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'error', 'warn']);
  });

  const batcher = (run: (items: readonly number[]) => Promise<string[]>, maxWeight = 10) =>
    new StatementBatcher<number, string>({
      what: 'numbers',
      run,
      weight: (item) => item,
      maxWeight,
      timeoutAttempts: 3,
      whenFailed: 'gone',
      logger,
    });

  it('runs what is submitted in one turn together, and what comes during a flush in the next, up to the weight', async () => {
    const flushes: number[][] = [];
    const numbers = batcher(async (items) => {
      flushes.push([...items]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return items.map((item) => `#${item}`);
    });
    const first = [1, 2, 3].map((n) => numbers.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    // The first flush runs: these wait for the next; 4 + 5 reach the weight of 10 with 1, so 6 waits again.
    const later = [4, 5, 1, 6].map((n) => numbers.submit(n));
    expect(await Promise.all([...first, ...later])).toEqual(['#1', '#2', '#3', '#4', '#5', '#1', '#6']);
    expect(flushes).toEqual([[1, 2, 3], [4, 5, 1], [6]]);
    expect(numbers.flushes).toBe(3);
    expect(numbers.queued).toBe(0);
  });

  it('after a failed flush runs each item alone, so only the one the database rejects fails', async () => {
    const numbers = batcher((items) =>
      items.includes(2)
        ? Promise.reject(new Error('row 2 violates a constraint'))
        : Promise.resolve(items.map(String)),
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => numbers.submit(n)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: '1' },
      { status: 'rejected', reason: new Error('row 2 violates a constraint') },
      { status: 'fulfilled', value: '3' },
    ]);
  });

  it('fails an item the statement returned no result for, naming the batch', async () => {
    const numbers = batcher((items) => Promise.resolve(items.slice(0, -1).map(String)));
    const outcomes = await Promise.allSettled([7, 8].map((n) => numbers.submit(n)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: '7' },
      { status: 'rejected', reason: new Error('numbers: the batch returned no result for an item') },
    ]);
  });
});
