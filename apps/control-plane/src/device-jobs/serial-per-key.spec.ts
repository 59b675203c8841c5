import { SerialPerKey } from './serial-per-key';

describe('SerialPerKey', () => {
  it('runs the tasks of one key in order, even after a failure, and other keys meanwhile', async () => {
    const serial = new SerialPerKey();
    const log: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = serial.run('a', async () => {
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      log.push('a1');
      throw new Error('a1 failed');
    });
    const second = serial.run('a', () => {
      log.push('a2');
      return Promise.resolve('a2 result');
    });
    await serial.run('b', () => {
      log.push('b1');
      return Promise.resolve();
    });
    expect(log).toEqual(['b1']);
    releaseFirst();
    await expect(first).rejects.toThrow('a1 failed');
    await expect(second).resolves.toBe('a2 result');
    expect(log).toEqual(['b1', 'a1', 'a2']);
  });
});

describe('SerialPerKey.runAll', () => {
  it('runs a task holding several keys after the earlier tasks of each, and before the later ones of any', async () => {
    const serial = new SerialPerKey();
    const log: string[] = [];
    let releaseA: () => void = () => undefined;
    const a1 = serial.run('a', async () => {
      await new Promise<void>((resolve) => (releaseA = resolve));
      log.push('a1');
    });
    const batch = serial.runAll(['a', 'b', 'b'], () => {
      log.push('batch');
      return Promise.resolve('done');
    });
    const b2 = serial.run('b', () => Promise.resolve(void log.push('b2')));
    const c1 = serial.run('c', () => Promise.resolve(void log.push('c1')));
    await c1;
    // `c` is not held by the batch; `b2` waits for the batch, which waits for `a1`.
    expect(log).toEqual(['c1']);
    releaseA();
    await Promise.all([a1, batch, b2]);
    expect(log).toEqual(['c1', 'a1', 'batch', 'b2']);
    await expect(batch).resolves.toBe('done');
  });
});
