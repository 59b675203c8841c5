import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * A local HTTP server double of the control plane's `GET /artifacts/:sha256` (per its contract: Basic
 * <device id>:<secret>, one `Range: bytes=<start>-` range answered 206 with Content-Range). Records requests.
 */
export class ArtifactServerDouble {
  readonly requests: { path: string; range: string | undefined; authorized: boolean }[] = [];
  private readonly artifacts = new Map<string, Buffer>();
  /**
   * Faults for the next requests, one each, in order: `stall` sends the headers and then nothing, `cut` sends part of
   * the body and drops the connection, a number answers that HTTP status.
   */
  readonly faults: Array<'stall' | 'cut' | number> = [];
  private readonly stalled = new Set<http.ServerResponse>();
  /** When set, bodies are sent in 64 KiB pieces at about this rate (a slow link). */
  bytesPerSecond: number | undefined;

  private constructor(
    private readonly server: http.Server,
    private readonly accepts: (username: string, password: string) => boolean,
  ) {
    server.on('request', (request, response) => this.handle(request, response));
  }

  /** Accepts the given device credentials, or any a predicate accepts (many simulated devices). */
  static async start(
    credentials: { username: string; password: string } | ((username: string, password: string) => boolean),
  ): Promise<ArtifactServerDouble> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepts =
      typeof credentials === 'function'
        ? credentials
        : (username: string, password: string) =>
            username === credentials.username && password === credentials.password;
    return new ArtifactServerDouble(server, accepts);
  }

  /** Serves `content`; returns its sha256 and URL. */
  add(content: Buffer): { sha256: string; url: string; sizeBytes: number } {
    const sha256 = createHash('sha256').update(content).digest('hex');
    this.artifacts.set(sha256, content);
    return { sha256, url: this.urlFor(sha256), sizeBytes: content.length };
  }

  urlFor(sha256: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/artifacts/${sha256}`;
  }

  async close(): Promise<void> {
    for (const response of this.stalled) response.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '');
    const [username = '', password = ''] = Buffer.from(basic?.[1] ?? '', 'base64')
      .toString('utf8')
      .split(':');
    const authorized = basic !== null && this.accepts(username, password);
    const range = request.headers.range;
    this.requests.push({ path: request.url ?? '', range, authorized });
    if (!authorized) {
      response.writeHead(401).end();
      return;
    }
    const content = this.artifacts.get((request.url ?? '').replace('/artifacts/', ''));
    if (content === undefined) {
      response.writeHead(404).end();
      return;
    }
    const fault = this.faults.shift();
    if (typeof fault === 'number') {
      response.writeHead(fault).end();
      return;
    }
    if (fault === 'stall') {
      response.writeHead(200, { 'content-length': content.length });
      response.flushHeaders();
      this.stalled.add(response);
      return;
    }
    if (fault === 'cut') {
      response.writeHead(200, { 'content-length': content.length });
      response.write(content.subarray(0, Math.floor(content.length / 2)), () => response.socket?.end());
      return;
    }
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (match !== null) {
      const start = Number(match[1]);
      if (start >= content.length) {
        response.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
        return;
      }
      response.writeHead(206, {
        'content-range': `bytes ${start}-${content.length - 1}/${content.length}`,
        'content-length': content.length - start,
      });
      this.send(response, content.subarray(start));
      return;
    }
    response.writeHead(200, { 'content-length': content.length });
    if (this.bytesPerSecond !== undefined) {
      this.send(response, content);
      return;
    }
    response.end(content);
  }

  private send(response: http.ServerResponse, body: Buffer): void {
    const rate = this.bytesPerSecond;
    if (rate === undefined) {
      response.end(body);
      return;
    }
    const piece = 64 * 1024;
    let offset = 0;
    const next = () => {
      if (response.destroyed) return;
      if (offset >= body.length) {
        response.end();
        return;
      }
      response.write(body.subarray(offset, offset + piece));
      offset += piece;
      setTimeout(next, (piece / rate) * 1000);
    };
    next();
  }
}
