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
