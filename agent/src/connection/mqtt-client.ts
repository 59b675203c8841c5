import { connect, type IClientOptions } from 'mqtt';

/** The part of an mqtt.js client that `DeviceConnection` uses; tests substitute a fake. */
export interface ConnectionClient {
  on(event: 'connect', listener: () => void): unknown;
  on(
    event: 'message',
    listener: (topic: string, payload: Buffer, packet: { retain: boolean }) => void,
  ): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  subscribeAsync(
    subscriptions: Record<string, { qos: 0 | 1 }>,
  ): Promise<readonly { topic: string; qos: number }[]>;
  publishAsync(
    topic: string,
    payload: Buffer,
    options: { qos: 0 | 1; retain: boolean; properties?: { messageExpiryInterval?: number } },
  ): Promise<unknown>;
  endAsync(force?: boolean): Promise<void>;
}

export type ConnectionClientFactory = (url: string, options: IClientOptions) => ConnectionClient;

/** mqtt.js, as used in production. */
export const connectMqttClient: ConnectionClientFactory = (url, options) => connect(url, options);
