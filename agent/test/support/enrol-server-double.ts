import * as http from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * A local HTTP server double of the control plane's `POST /enrol` (contract:
 * apps/control-plane/src/enrolment/enrolment.dto.ts): a one-time token is exchanged once for the device's
 * identity; a second use answers 401 like a used-up token.
 */
export class EnrolServerDouble {
  readonly bodies: Record<string, unknown>[] = [];
  private used = false;

  private constructor(
    private readonly server: http.Server,
    private readonly token: string,
    private readonly identity: Record<string, unknown>,
  ) {
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        this.bodies.push(body);
        if (request.method !== 'POST' || request.url !== '/enrol') {
          response.writeHead(404).end();
        } else if (body.token !== this.token || this.used) {
          response
            .writeHead(401, { 'content-type': 'application/json' })
            .end(JSON.stringify({ message: 'invalid or used-up enrolment token' }));
        } else {
          this.used = true;
          response
            .writeHead(201, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ...this.identity, name: body.name, tags: {} }));
        }
      });
    });
  }

  static async start(token: string, identity: Record<string, unknown>): Promise<EnrolServerDouble> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new EnrolServerDouble(server, token, identity);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
