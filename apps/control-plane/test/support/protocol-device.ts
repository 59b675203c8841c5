import {
  buildPublication,
  PROTOCOL_VERSION,
  retainedClearPublication,
  TopicScheme,
} from '@emofleet/protocol';
import { connectAsync, type MqttClient } from 'mqtt';

/**
 * A device speaking the wire protocol from a plain MQTT client: for gateway tests that need exact control
 * over what is published (stale wills, malformed payloads). The real agent is exercised separately.
 */
export class ProtocolDevice {
  private constructor(
    readonly deviceId: string,
    private readonly topics: TopicScheme,
    private readonly client: MqttClient,
  ) {}

  /** Connects as `deviceId` (client id and username) with its enrolled `secret`. */
  static async connect(
    mqttUrl: string,
    topicPrefix: string,
    deviceId: string,
    secret: string,
  ): Promise<ProtocolDevice> {
    const client = await connectAsync(mqttUrl, {
      clientId: deviceId,
      username: deviceId,
      password: secret,
      protocolVersion: 4,
      clean: true,
    });
    return new ProtocolDevice(deviceId, new TopicScheme(topicPrefix), client);
  }

  async birth(bdSeq: number): Promise<void> {
    await this.send(
      buildPublication(
        this.topics,
        'birth',
        {
          v: PROTOCOL_VERSION,
          deviceId: this.deviceId,
          bdSeq,
          timestamp: Date.now(),
          agentVersion: '0.1.0',
          capabilities: {
            arch: 'x64',
            os: { platform: 'linux', release: '6.1.0' },
            cpuCores: 2,
            memoryBytes: 1024 ** 3,
            detectorBackends: ['cpu'],
            simulated: true,
          },
          runningModel: null,
        },
        4,
      ),
    );
  }

  async state(state: 'online' | 'offline', bdSeq: number): Promise<void> {
    await this.send(
      buildPublication(
        this.topics,
        'state',
        { v: PROTOCOL_VERSION, deviceId: this.deviceId, state, bdSeq, timestamp: Date.now() },
        4,
      ),
    );
  }

  async raw(topic: string, payload: string | Buffer): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  /** Clears the retained birth and state this device left on the broker, then disconnects. */
  async close(): Promise<void> {
    for (const kind of ['birth', 'state'] as const) {
      await this.send(retainedClearPublication(this.topics.topicFor({ kind, deviceId: this.deviceId })));
    }
    await this.client.endAsync();
  }

  private async send(publication: {
    topic: string;
    payload: Buffer;
    qos: 0 | 1;
    retain: boolean;
  }): Promise<void> {
    await this.client.publishAsync(publication.topic, publication.payload, {
      qos: publication.qos,
      retain: publication.retain,
    });
  }
}
