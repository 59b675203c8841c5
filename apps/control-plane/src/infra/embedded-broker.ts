import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { TopicScheme } from '@emofleet/protocol';
import { type Client, createBroker } from 'aedes';
import { type BrokerAccount, type DeviceAuthenticator, EmbeddedBrokerAccess } from './embedded-broker-access';
import { firstFreePort } from './free-port';
import { type TlsMaterial } from './tls-material';

export interface EmbeddedBroker {
  /** `mqtt://` or, with TLS, `mqtts://`; the host is loopback when the broker listens on every interface. */
  url: string;
  port: number;
  /** The control plane's own account (random per boot). */
  controlPlaneAccount: BrokerAccount;
  /** How device passwords are checked; until it is set, devices are refused ("server unavailable"). */
  setDeviceAuthenticator(authenticator: DeviceAuthenticator): void;
  /** Refuses the device from now on (in this process) and ends its live session. */
  revokeDevice(deviceId: string): void;
  /** Lifts a `revokeDevice` (the device was enrolled again). */
  allowDevice(deviceId: string): void;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  preferredPort: number;
  host: string;
  topicPrefix: string;
  /** Serve MQTT over TLS (mqtts) instead of plain TCP. */
  tls: TlsMaterial | undefined;
}

/**
 * Starts the embedded MQTT 3.1.1 broker (aedes) on `preferredPort`, or on the next free port when that one is
 * taken (for example by a running Mosquitto). Used when no MQTT_URL is configured. Devices authenticate and are
 * confined to their own topics (see `EmbeddedBrokerAccess`).
 */
export async function startEmbeddedBroker(
  options: EmbeddedBrokerOptions,
  log: (line: string) => void,
): Promise<EmbeddedBroker> {
  const { preferredPort, host, tls } = options;
  const port = await firstFreePort(preferredPort, host);
  if (port !== preferredPort) log(`MQTT port ${preferredPort} is taken: the embedded broker uses ${port}`);
  const access = new EmbeddedBrokerAccess(new TopicScheme(options.topicPrefix));
  const broker = createBroker({
    authenticate: access.authenticate,
    authorizePublish: access.authorizePublish,
    authorizeSubscribe: access.authorizeSubscribe,
  });
  const liveClients = new Map<string, Client>();
  broker.on('clientReady', (client) => liveClients.set(client.id, client));
  broker.on('clientDisconnect', (client) => {
    if (liveClients.get(client.id) === client) liveClients.delete(client.id);
  });
  const handle = (socket: Socket) => broker.handle(socket);
  const server: Server = tls
    ? createTlsServer({ key: tls.key, cert: tls.cert }, handle)
    : createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `${tls ? 'mqtts' : 'mqtt'}://${urlHost}:${port}`,
    port,
    controlPlaneAccount: access.controlPlaneAccount,
    setDeviceAuthenticator: (authenticator) => access.setDeviceAuthenticator(authenticator),
    revokeDevice: (deviceId) => {
      access.revoke(deviceId);
      liveClients.get(deviceId)?.close();
    },
    allowDevice: (deviceId) => access.allow(deviceId),
    close: async () => {
      // Closing the broker first disconnects its clients, so the listening socket can then close.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
