import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { apiRequest } from './api-request';

export interface Enrolment {
  deviceId: string;
  name: string;
  tags: Record<string, string>;
  secret: string;
  mqttUrl: string;
  topicPrefix: string;
  signingPublicKey: string;
  caCertificate: string | null;
}

/** Creates an enrolment token as the test admin and enrols one device with it. */
export async function enrolDevice(
  baseUrl: string,
  name: string,
  tokenOptions: { tags?: Record<string, string> } = {},
): Promise<Enrolment> {
  const token = await apiRequest<{ token: string }>(baseUrl, 'POST', '/enrolment-tokens', {
    body: { name: `for ${name}`, ...tokenOptions },
  });
  if (token.status !== 201)
    throw new Error(`creating an enrolment token failed: ${JSON.stringify(token.body)}`);
  const enrolment = await apiRequest<Enrolment>(baseUrl, 'POST', '/enrol', {
    token: null,
    body: { token: token.body.token, name },
  });
  if (enrolment.status !== 201)
    throw new Error(`enrolling ${name} failed: ${JSON.stringify(enrolment.body)}`);
  return enrolment.body;
}

/** Connects to the broker as the enrolled device (client id = username = device id, password = secret). */
export function connectAsDevice(enrolment: Enrolment, options: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(enrolment.mqttUrl, {
    clientId: enrolment.deviceId,
    username: enrolment.deviceId,
    password: enrolment.secret,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
}
