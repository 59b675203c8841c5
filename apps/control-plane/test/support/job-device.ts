import {
  type DesiredStateMessage,
  type DeviceReportableJobStatus,
  type JobNotifyNextMessage,
  type JobStatusDetails,
  type JobUpdateResponseMessage,
  PROTOCOL_VERSION,
  TopicScheme,
} from '@emofleet/protocol';
import { type MqttClient } from 'mqtt';
import { connectAsDevice, type Enrolment, enrolDevice } from './enrolment';
import { eventually } from './eventually';

/**
 * An enrolled device speaking the jobs protocol from a plain MQTT client: it records its retained `desired` and
 * `jobs/notify-next` and the responses to its job updates, and sends updates (or any payload) as the test says.
 */
export class JobDevice {
  readonly desired: DesiredStateMessage[] = [];
  readonly notifications: JobNotifyNextMessage[] = [];
  private readonly responses = new Map<string, JobUpdateResponseMessage[]>();

  private constructor(
    readonly enrolment: Enrolment,
    private readonly client: MqttClient,
    private readonly topics: TopicScheme,
  ) {
    const desiredTopic = topics.topicFor({ kind: 'desired', deviceId: enrolment.deviceId });
    const notifyTopic = topics.topicFor({ kind: 'job-notify-next', deviceId: enrolment.deviceId });
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const json: unknown = JSON.parse(payload.toString('utf8'));
      if (topic === desiredTopic) this.desired.push(json as DesiredStateMessage);
      else if (topic === notifyTopic) this.notifications.push(json as JobNotifyNextMessage);
      else if (topic.endsWith('/update/response')) {
        const response = json as JobUpdateResponseMessage;
        const list = this.responses.get(response.jobId) ?? [];
        list.push(response);
        this.responses.set(response.jobId, list);
      }
    });
  }

  static async enrol(baseUrl: string, topicPrefix: string, name: string): Promise<JobDevice> {
    const enrolment = await enrolDevice(baseUrl, name);
    const client = await connectAsDevice(enrolment);
    const topics = new TopicScheme(topicPrefix);
    const device = new JobDevice(enrolment, client, topics);
    const id = enrolment.deviceId;
    await client.subscribeAsync(
      [
        topics.topicFor({ kind: 'desired', deviceId: id }),
        topics.topicFor({ kind: 'job-notify-next', deviceId: id }),
        `${topics.prefix}/devices/${id}/jobs/+/update/response`,
      ],
      { qos: 1 },
    );
    return device;
  }

  get id(): string {
    return this.enrolment.deviceId;
  }

  /** The newest `jobs/notify-next` once `accept` likes it. */
  nextJobBecomes(
    accept: (message: JobNotifyNextMessage) => boolean,
    what: string,
  ): Promise<JobNotifyNextMessage> {
    return eventually(
      () => Promise.resolve(this.notifications[this.notifications.length - 1]),
      (message): message is JobNotifyNextMessage => message !== undefined && accept(message),
      { timeoutMs: 10_000, what: `${this.id}: notify-next ${what}` },
    ) as Promise<JobNotifyNextMessage>;
  }

  /** The newest `desired` once `accept` likes it. */
  desiredBecomes(
    accept: (message: DesiredStateMessage) => boolean,
    what: string,
  ): Promise<DesiredStateMessage> {
    return eventually(
      () => Promise.resolve(this.desired[this.desired.length - 1]),
      (message): message is DesiredStateMessage => message !== undefined && accept(message),
      { timeoutMs: 10_000, what: `${this.id}: desired ${what}` },
    ) as Promise<DesiredStateMessage>;
  }

  /** Reports on `jobId` and returns the control plane's answer. */
  update(
    jobId: string,
    status: DeviceReportableJobStatus,
    expectedVersion: number,
    statusDetails: JobStatusDetails = {},
  ): Promise<JobUpdateResponseMessage> {
    return this.send(
      jobId,
      JSON.stringify({
        v: PROTOCOL_VERSION,
        deviceId: this.id,
        jobId,
        status,
        expectedVersion,
        statusDetails,
        timestamp: Date.now(),
      }),
    );
  }

  /** Publishes `payload` as an update of `jobId` and returns the answer. */
  async send(jobId: string, payload: string | Buffer): Promise<JobUpdateResponseMessage> {
    const seen = this.responsesOf(jobId).length;
    await this.client.publishAsync(
      this.topics.topicFor({ kind: 'job-update', deviceId: this.id, jobId }),
      payload,
      {
        qos: 1,
      },
    );
    const list = await eventually(
      () => Promise.resolve(this.responsesOf(jobId)),
      (responses) => responses.length > seen,
      { timeoutMs: 10_000, what: `${this.id}: an answer to the update of ${jobId}` },
    );
    return list[seen] as JobUpdateResponseMessage;
  }

  responsesOf(jobId: string): JobUpdateResponseMessage[] {
    return this.responses.get(jobId) ?? [];
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
