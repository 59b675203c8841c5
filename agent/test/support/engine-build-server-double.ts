import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { type AddressInfo } from 'node:net';

/** One engine a builder PUT, as the double received it. */
export interface ReceivedEngine {
  readonly path: string;
  readonly deviceId: string;
  readonly claimedSha256: string | undefined;
  readonly content: Buffer;
}

/**
 * A local HTTP double of the two control-plane routes an engine builder uses: `GET /artifacts/:sha256` (the
 * ONNX model) and `PUT /engine-builds/:cacheKey/engine` (the engine, with `X-Content-SHA256`), both with the
 * device's Basic credentials. It answers the upload like the control plane: 201, or 422 when the digest is
 * wrong; `refuseUploads` makes it answer 403 with the control plane's JSON error shape, `failNextUploads` 503.
 */
export class EngineBuildServerDouble {
  readonly engines: ReceivedEngine[] = [];
  refuseUploads = false;
  /** Answers this many uploads 503 (a control plane restarting) before taking one. */
  failNextUploads = 0;
  uploadAttempts = 0;
  private readonly artifacts = new Map<string, Buffer>();

  private constructor(
    private readonly server: http.Server,
    private readonly credentials: { username: string; password: string },
  ) {
    server.on('request', (request, response) => this.handle(request, response));
  }

  static async start(credentials: { username: string; password: string }): Promise<EngineBuildServerDouble> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new EngineBuildServerDouble(server, credentials);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Serves `content` as an artifact; returns its sha256, size and URL. */
  add(content: Buffer): { sha256: string; sizeBytes: number; url: string } {
    const sha256 = createHash('sha256').update(content).digest('hex');
    this.artifacts.set(sha256, content);
    return { sha256, sizeBytes: content.length, url: `${this.baseUrl}/artifacts/${sha256}` };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '');
    const [username = '', password = ''] = Buffer.from(basic?.[1] ?? '', 'base64')
      .toString('utf8')
      .split(':');
    if (username !== this.credentials.username || password !== this.credentials.password) {
      response.writeHead(401).end();
      return;
    }
    const url = request.url ?? '';
    if (request.method === 'GET' && url.startsWith('/artifacts/')) {
      const content = this.artifacts.get(url.slice('/artifacts/'.length));
      if (content === undefined) response.writeHead(404).end();
      else response.writeHead(200, { 'content-length': content.length }).end(content);
      return;
    }
    if (request.method === 'PUT' && /^\/engine-builds\/[0-9a-f]{64}\/engine$/.test(url)) {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const content = Buffer.concat(chunks);
        const claimedSha256 = request.headers['x-content-sha256'] as string | undefined;
        const reply = (status: number, message: string) =>
          response
            .writeHead(status, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: { status, code: 'refused', message } }));
        this.uploadAttempts += 1;
        if (this.failNextUploads > 0) {
          this.failNextUploads -= 1;
          reply(503, 'restarting');
          return;
        }
        if (this.refuseUploads) {
          reply(403, `device ${username} has no running build-engine job for this key`);
          return;
        }
        const sha256 = createHash('sha256').update(content).digest('hex');
        if (sha256 !== claimedSha256) {
          reply(422, `X-Content-SHA256 says ${claimedSha256 ?? 'nothing'}, the body is ${sha256}`);
          return;
        }
        this.engines.push({ path: url, deviceId: username, claimedSha256, content });
        response
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ sha256, sizeBytes: content.length }));
      });
      return;
    }
    response.writeHead(404).end();
  }
}
