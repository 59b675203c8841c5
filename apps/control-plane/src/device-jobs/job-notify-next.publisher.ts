import { Injectable, Logger } from '@nestjs/common';
import { type JobNotifyNextMessage, PROTOCOL_VERSION } from '@emofleet/protocol';
import { type DeviceJobExecutionRow } from '../database/schema';
import { StatementBatcher } from '../database/statement-batcher';
import { DeviceJobsRepository } from './device-jobs.repository';
import { ProtocolMessageSender } from './protocol-message.sender';
import { SerialPerKey } from './serial-per-key';

/** Devices published for in one batch of single publications at most. */
const MAX_DEVICES_PER_BATCH = 500;
/** A batch whose reads hit a database time limit is tried this many times in all. */
const TIMEOUT_ATTEMPTS = 2;

/**
 * Publishes a device's retained `jobs/notify-next` (never for decommissioned devices): its oldest unfinished
 * job, or `execution: null`. Called whenever that may have changed (a job queued, a job finished); publications
 * of one device (alone or in a batch) are serialised and read the table when they run, so the last one sent is the current state.
 */
@Injectable()
export class JobNotifyNextPublisher {
  private readonly serial = new SerialPerKey();
  /** Single publications asked for together (the answers of one job update batch, say) go out as one batch. */
  private readonly singles: StatementBatcher<string, true>;

  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly sender: ProtocolMessageSender,
  ) {
    this.singles = new StatementBatcher({
      what: 'notify-next publications',
      run: async (deviceIds) => {
        await this.publishMany([...new Set(deviceIds)]);
        return deviceIds.map(() => true as const);
      },
      maxWeight: MAX_DEVICES_PER_BATCH,
      timeoutAttempts: TIMEOUT_ATTEMPTS,
      whenFailed: 'their callers get the error',
      logger: new Logger(JobNotifyNextPublisher.name),
    });
  }

  /** Publishes one device's notify-next, together with the others asked for in the same turn of the event loop. */
  async publish(deviceId: string): Promise<void> {
    await this.singles.submit(deviceId);
  }

  /** Publishes for several devices at once: two reads for all, then one message each. */
  publishMany(deviceIds: readonly string[]): Promise<void> {
    return this.serial.runAll(deviceIds, async () => {
      // A decommissioned device's retained topics were cleared; nothing may bring them back.
      const states = await this.repository.deviceStates(deviceIds);
      const inService = deviceIds.filter((deviceId) => states.get(deviceId) !== 'decommissioned');
      const next = await this.repository.nextPendingOf(inService);
      await Promise.all(
        inService.map((deviceId) =>
          this.sender.send('job-notify-next', notifyNextMessage(deviceId, next.get(deviceId))),
        ),
      );
    });
  }
}

function notifyNextMessage(deviceId: string, next: DeviceJobExecutionRow | undefined): JobNotifyNextMessage {
  return {
    v: PROTOCOL_VERSION,
    deviceId,
    timestamp: Date.now(),
    execution:
      next === undefined
        ? null
        : {
            jobId: next.jobId,
            status: next.status === 'IN_PROGRESS' ? 'IN_PROGRESS' : 'QUEUED',
            versionNumber: next.versionNumber,
            queuedAt: next.queuedAt.getTime(),
            document: { operation: next.operation, parameters: next.parameters },
          },
  };
}
