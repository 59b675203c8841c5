/**
 * Runs tasks one after another per key (here: per device), so that the publications of one device leave in the
 * order they were asked for; different keys run concurrently. A task may hold several keys (one publication
 * step for a batch of devices): it waits for each key's earlier tasks, and later tasks of any of them wait for it.
 */
export class SerialPerKey {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.runAll([key], task);
  }

  runAll<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const previous = unique.map((key) => this.tails.get(key)).filter((tail) => tail !== undefined);
    const result = (previous.length === 0 ? Promise.resolve() : Promise.all(previous)).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    for (const key of unique) this.tails.set(key, tail);
    void tail.then(() => {
      for (const key of unique) if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
