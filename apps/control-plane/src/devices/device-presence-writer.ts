import { Injectable, Logger } from '@nestjs/common';
import { StatementBatcher } from '../database/statement-batcher';
import { DevicesRepository, type PresenceUpdate } from './devices.repository';

/** At most this many births and states go into one flush (one transaction); the rest wait for the next. */
export const MAX_PRESENCE_UPDATES_PER_FLUSH = 1000;
/** A flush that hits a database time limit is written again, whole, up to this many attempts in all. */
export const PRESENCE_TIMEOUT_ATTEMPTS = 3;

/**
 * Group commit for births and session states (`StatementBatcher` over `DevicesRepository.applyPresence`): a
 * connection storm (a broker restart, or a control plane starting and receiving every retained birth and state
 * at once) costs a few transactions of up to `MAX_PRESENCE_UPDATES_PER_FLUSH` updates instead of one or two
 * statements per device, which a small connection pool queues until they time out.
 */
@Injectable()
export class DevicePresenceWriter {
  private readonly commits: StatementBatcher<PresenceUpdate, boolean>;

  constructor(repository: DevicesRepository) {
    this.commits = new StatementBatcher({
      what: 'device presence updates',
      run: (updates) => repository.applyPresence(updates),
      maxWeight: MAX_PRESENCE_UPDATES_PER_FLUSH,
      timeoutAttempts: PRESENCE_TIMEOUT_ATTEMPTS,
      whenFailed: 'those devices keep their recorded presence until their next birth or state',
      logger: new Logger(DevicePresenceWriter.name),
    });
  }

  /** Applies a birth or a state in the next flush; resolves with whether it applied, once committed. */
  apply(update: PresenceUpdate): Promise<boolean> {
    return this.commits.submit(update);
  }

  /** Transactions done so far, attempts after a time-out included. */
  get flushes(): number {
    return this.commits.flushes;
  }
}
