import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { decodeMessage, PROTOCOL_VERSION } from '@emofleet/protocol';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { ProtocolRejections } from '../messaging/protocol-rejections';
import { DeviceJobUpdates, type JobUpdateVerdict } from './device-job-updates';
import { ProtocolMessageSender } from './protocol-message.sender';

/** Codec rejections whose topic still names a device and a job, which then get an `invalid` answer. */
const ANSWERED_REJECTIONS = new Set([
  'payload-too-large',
  'invalid-json',
  'missing-version',
  'unsupported-version',
  'schema-violation',
  'topic-mismatch',
]);

/**
 * Receives the devices' `jobs/<jobId>/update` messages (shared between replicas on MQTT 5; idempotent through
 * `versionNumber` on 3.1.1) and answers each on `jobs/<jobId>/update/response`. A malformed payload is counted
 * with the other protocol rejections and answered `invalid` when its topic names the job.
 */
@Injectable()
export class JobUpdateListener implements OnApplicationBootstrap {
  private readonly logger = new Logger(JobUpdateListener.name);

  constructor(
    private readonly mqtt: MqttAdapter,
    private readonly updates: DeviceJobUpdates,
    private readonly sender: ProtocolMessageSender,
    private readonly rejections: ProtocolRejections,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.mqtt.connect();
    await this.mqtt.subscribe(
      this.sender.topics.filterFor('job-update'),
      (topic, payload) => this.receive(topic, payload),
      { shared: true },
    );
  }

  private async receive(topic: string, payload: Buffer): Promise<void> {
    const topics = this.sender.topics;
    const decoded = decodeMessage(topic, payload, { topics });
    if (decoded.ok) {
      if (decoded.kind !== 'job-update') return;
      await this.answer(decoded.deviceId, decoded.message.jobId, await this.updates.apply(decoded.message));
      return;
    }
    if (decoded.reason === 'empty-payload') return;
    this.rejections.record(decoded);
    const address = topics.parse(topic);
    if (!address.ok || address.kind !== 'job-update' || address.jobId === undefined) return;
    if (!ANSWERED_REJECTIONS.has(decoded.reason)) return;
    const verdict = await this.updates.rejectMalformed(address.deviceId, address.jobId);
    await this.answer(address.deviceId, address.jobId, verdict);
  }

  private async answer(deviceId: string, jobId: string, verdict: JobUpdateVerdict): Promise<void> {
    try {
      await this.sender.send('job-update-response', {
        v: PROTOCOL_VERSION,
        deviceId,
        jobId,
        ...verdict,
        timestamp: Date.now(),
      });
    } catch (error) {
      this.logger.warn(
        `could not answer ${deviceId}'s update of job ${jobId}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
