/**
 * Sends progress reports one at a time, the newest offered value replacing one not yet sent. A job reporter
 * waits for each answer before the next update: two updates at once carry the same expected version, so one of
 * them is answered for the other and waits out its response time-out (about 10 s) before it is sent again. Here
 * at most one report is in flight and, when it ends, only the latest progress offered meanwhile follows it.
 */
export class SerialProgressReports<T> {
  private sending: Promise<void> | undefined;
  private next: T | undefined;
  private failure: Error | undefined;

  constructor(private readonly send: (progress: T) => Promise<void>) {}

  /** Queues `progress` to be sent after the report in flight (if any), replacing any value still waiting. */
  offer(progress: T): void {
    this.next = progress;
    if (this.sending !== undefined || this.failure !== undefined) return;
    this.sending = this.drain().then(
      () => this.finished(),
      (error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(String(error));
        this.finished();
      },
    );
  }

  /** Resolves once everything offered was sent; a failed report (e.g. the job was cancelled) is thrown here. */
  async settled(): Promise<void> {
    while (this.sending !== undefined) await this.sending;
    if (this.failure !== undefined) throw this.failure;
  }

  private finished(): void {
    this.sending = undefined;
    if (this.next !== undefined && this.failure === undefined) this.offer(this.next);
  }

  private async drain(): Promise<void> {
    while (this.next !== undefined) {
      const progress = this.next;
      this.next = undefined;
      await this.send(progress);
    }
  }
}
