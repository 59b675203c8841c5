import {
  PROTOCOL_VERSION,
  type DesiredStateMessage,
  type JobExecution,
  type JobNotifyNextMessage,
  type JobUpdateMessage,
} from '@emofleet/protocol';
import { type InboundHandler, type InboundKind, type InboundMessage } from '../../src/connection';
import { type ReconcileChannel } from '../../src/reconcile';

/**
 * An in-memory double of the control plane's side of desired state and jobs (per docs/protocol.md): delivers
 * desired states and job notifications, accepts each job update whose `expectedVersion` matches and answers with
 * the next version, and records every update.
 */
export class JobServiceDouble implements ReconcileChannel {
  readonly updates: JobUpdateMessage[] = [];
  private readonly handlers = new Map<InboundKind, Set<InboundHandler<InboundKind>>>();
  private readonly versions = new Map<string, number>();
  private readonly rejectionListeners = new Set<
    (rejection: { kind?: string; reason: string; detail: string }) => void
  >();

  onRejection(listener: (rejection: { kind?: string; reason: string; detail: string }) => void): () => void {
    this.rejectionListeners.add(listener);
    return () => this.rejectionListeners.delete(listener);
  }

  /** What the device's connection does with a desired state that fails validation. */
  sendMalformedDesired(reason: string, detail: string): void {
    for (const listener of this.rejectionListeners) listener({ kind: 'desired', reason, detail });
  }

  constructor(readonly deviceId: string) {}

  onMessage<K extends InboundKind>(kind: K, handler: InboundHandler<K>): () => void {
    const set = this.handlers.get(kind) ?? new Set();
    set.add(handler as unknown as InboundHandler<InboundKind>);
    this.handlers.set(kind, set);
    return () => set.delete(handler as unknown as InboundHandler<InboundKind>);
  }

  publish(_kind: 'job-update', message: JobUpdateMessage): Promise<void> {
    this.updates.push(message);
    const current = this.versions.get(message.jobId) ?? 1;
    const accepted = message.expectedVersion === current;
    if (accepted) this.versions.set(message.jobId, current + 1);
    const status = accepted ? message.status : 'IN_PROGRESS';
    const answer = () =>
      this.deliver({
        kind: 'job-update-response',
        jobId: message.jobId,
        retained: false,
        message: {
          v: PROTOCOL_VERSION,
          deviceId: this.deviceId,
          jobId: message.jobId,
          accepted,
          status,
          versionNumber: this.versions.get(message.jobId) ?? current,
          ...(accepted ? {} : { rejection: 'version-conflict' as const }),
          timestamp: Date.now(),
        },
      });
    if (this.held !== undefined && this.held.matches(message)) this.held.answers.push(answer);
    else setImmediate(answer);
    return Promise.resolve();
  }

  private held: { matches: (update: JobUpdateMessage) => boolean; answers: Array<() => void> } | undefined;

  /**
   * Keeps the answers to updates `matches` selects (a slow round trip through the broker) until the returned
   * function is called, which sends them in order and answers at once again.
   */
  holdAnswers(matches: (update: JobUpdateMessage) => boolean): () => void {
    const held = { matches, answers: [] as Array<() => void> };
    this.held = held;
    return () => {
      if (this.held === held) this.held = undefined;
      for (const answer of held.answers.splice(0)) setImmediate(answer);
    };
  }

  private retainedDesired: DesiredStateMessage | undefined;

  sendDesired(desired: DesiredStateMessage): void {
    this.retainedDesired = desired;
    this.deliver({ kind: 'desired', message: desired, retained: false });
  }

  /** What the broker does after a (re)subscribe: delivers the retained desired state again. */
  replayRetainedDesired(): void {
    if (this.retainedDesired === undefined) throw new Error('no desired state was sent');
    this.deliver({ kind: 'desired', message: this.retainedDesired, retained: true });
  }

  sendJob(jobId: string, operation: string, parameters: Record<string, unknown>): void {
    const execution: JobExecution = {
      jobId,
      status: 'QUEUED',
      versionNumber: 1,
      queuedAt: Date.now(),
      document: { operation, parameters },
    };
    this.versions.set(jobId, 1);
    const message: JobNotifyNextMessage = {
      v: PROTOCOL_VERSION,
      deviceId: this.deviceId,
      timestamp: Date.now(),
      execution,
    };
    this.deliver({ kind: 'job-notify-next', message, retained: true });
  }

  /** `status/step` of every update of a job, e.g. `IN_PROGRESS/DOWNLOADING`. */
  stepsOf(jobId: string): string[] {
    return this.updates
      .filter((u) => u.jobId === jobId)
      .map((u) => `${u.status}/${u.statusDetails.step ?? '-'}`);
  }

  finalOf(jobId: string): JobUpdateMessage | undefined {
    return this.updates.filter((u) => u.jobId === jobId && u.status !== 'IN_PROGRESS').pop();
  }

  private deliver(inbound: InboundMessage<InboundKind>): void {
    for (const handler of this.handlers.get(inbound.kind) ?? []) void handler(inbound);
  }
}
