import { createServer, type Server } from 'node:net';
import { createBroker } from 'aedes';
import { firstFreePort } from './free-port';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the embedded MQTT 3.1.1 broker (aedes) on `preferredPort`, or on the next free port when that one is
 * taken (for example by a running Mosquitto). Used when no MQTT_URL is configured.
 */
export async function startEmbeddedBroker(
  preferredPort: number,
  host: string,
  log: (line: string) => void,
): Promise<EmbeddedBroker> {
  const port = await firstFreePort(preferredPort, host);
  if (port !== preferredPort) log(`MQTT port ${preferredPort} is taken: the embedded broker uses ${port}`);
  const broker = createBroker();
  const server: Server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    close: async () => {
      // Closing the broker first disconnects its clients, so the listening socket can then close.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
