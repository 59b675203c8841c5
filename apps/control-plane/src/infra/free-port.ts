import { createServer } from 'node:net';

/** True when nothing listens on `port` at `host` (we could bind it ourselves). */
export function isPortFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `preferred` if it is free, else the next free port above it (at most `attempts` tries). */
export async function firstFreePort(preferred: number, host = '0.0.0.0', attempts = 100): Promise<number> {
  if (preferred === 0) return ephemeralPort(host);
  for (let port = preferred; port < preferred + attempts && port <= 65535; port++) {
    if (await isPortFree(port, host)) return port;
  }
  throw new Error(`no free TCP port in ${preferred}..${preferred + attempts - 1} on ${host}`);
}

/** A port the kernel picks as free right now. */
export function ephemeralPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
