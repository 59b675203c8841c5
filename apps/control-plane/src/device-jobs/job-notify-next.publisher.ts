import { Injectable } from '@nestjs/common';
import { type JobNotifyNextMessage, PROTOCOL_VERSION } from '@emofleet/protocol';
import { DeviceJobsRepository } from './device-jobs.repository';
import { ProtocolMessageSender } from './protocol-message.sender';
import { SerialPerKey } from './serial-per-key';

/**
 * Publishes a device's retained `jobs/notify-next` (never for decommissioned devices): its oldest unfinished
 * job, or `execution: null`. Called whenever that may have changed (a job queued, a job finished); publications
 * of one device are serialised and read the table when they run, so the last one sent is the current state.
 */
@Injectable()
export class JobNotifyNextPublisher {
  private readonly serial = new SerialPerKey();

  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly sender: ProtocolMessageSender,
  ) {}

  publish(deviceId: string): Promise<void> {
    return this.serial.run(deviceId, async () => {
      // A decommissioned device's retained topics were cleared; nothing may bring them back.
      if ((await this.repository.findDevice(deviceId))?.decommissionedAt) return;
      const next = await this.repository.nextPending(deviceId);
      const message: JobNotifyNextMessage = {
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
      await this.sender.send('job-notify-next', message);
    });
  }
}
