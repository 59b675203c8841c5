import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Length of one step of a throttled direction. */
const THROTTLE_TICK_MS = 100;

/**
 * One direction of a proxied connection. Chunks are queued and written in order (at most `bytesPerSecond` when
 * throttled); an end of the source is passed on once the queue is written. While the proxy is partitioned (or
 * the destination is not connected yet) nothing is written and the source is not read, so the data waits in
 * socket buffers as it would behind a dead link.
 */
class Direction {
  private readonly queue: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sourceEnded = false;
  destination: Socket | undefined;

  constructor(
    private readonly source: Socket,
    private readonly proxy: TcpProxy,
    private readonly bytesPerSecond: () => number | undefined,
    private readonly onWritten: (bytes: number) => void = () => undefined,
  ) {
    source.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      this.pump();
    });
    source.on('end', () => {
      this.sourceEnded = true;
      this.pump();
    });
  }

  pump(): void {
    if (this.timer !== undefined) return;
    const destination = this.destination;
    if (this.proxy.partitioned || destination === undefined || destination.destroyed) {
      this.source.pause();
      return;
    }
    const rate = this.bytesPerSecond();
    while (this.queue.length > 0) {
      let chunk = this.queue.shift() as Buffer;
      if (rate !== undefined) {
        const slice = Math.max(1, Math.floor((rate * THROTTLE_TICK_MS) / 1000));
        if (chunk.length > slice) {
          this.queue.unshift(chunk.subarray(slice));
          chunk = chunk.subarray(0, slice);
        }
        destination.write(chunk);
        this.onWritten(chunk.length);
        this.source.pause();
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, THROTTLE_TICK_MS);
        return;
      }
      this.onWritten(chunk.length);
      if (!destination.write(chunk)) {
        this.source.pause();
        destination.once('drain', () => this.pump());
        return;
      }
    }
    if (this.sourceEnded) destination.end();
    else this.source.resume();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** One client connection and its upstream connection. */
class Link {
  private readonly toUpstream: Direction;
  private toClient: Direction | undefined;
  private upstream: Socket | undefined;
  private closed = false;
  private abortRequested = false;

  constructor(
    private readonly client: Socket,
    private readonly proxy: TcpProxy,
  ) {
    this.toUpstream = new Direction(client, proxy, () => undefined);
    client.on('error', () => this.abort());
    // A socket closes fully only after both directions ended, or when it failed: the link is then done.
    client.on('close', () => this.abort());
    this.connectUpstreamIfReachable();
  }

  /** Opens the upstream connection unless the proxy is partitioned (then at `resume`). */
  private connectUpstreamIfReachable(): void {
    if (this.upstream !== undefined || this.closed || this.proxy.partitioned) return;
    const upstream = connect({ port: this.proxy.targetPort, host: '127.0.0.1', allowHalfOpen: true });
    this.upstream = upstream;
    upstream.on('error', () => this.abort());
    upstream.on('close', () => this.abort());
    this.toClient = new Direction(
      upstream,
      this.proxy,
      () => this.proxy.throttleBytesPerSecond,
      (bytes) => (this.proxy.bytesToClients += bytes),
    );
    this.toClient.destination = this.client;
    upstream.once('connect', () => {
      this.toUpstream.destination = upstream;
      this.toUpstream.pump();
    });
  }

  /** Lets data flow again (after a partition). */
  resume(): void {
    if (this.abortRequested) {
      this.abort();
      return;
    }
    this.connectUpstreamIfReachable();
    this.toUpstream.pump();
    this.toClient?.pump();
  }

  /**
   * A socket failed or closed. During a partition the other side cannot learn it (no packet gets through): the reset is
   * passed on when the partition heals.
   */
  abort(): void {
    if (this.closed) return;
    if (this.proxy.partitioned) {
      this.abortRequested = true;
      return;
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.toUpstream.stop();
    this.toClient?.stop();
    this.client.destroy();
    this.upstream?.destroy();
    this.proxy.forget(this);
  }
}

/**
 * A TCP forwarder on a free loopback port to `targetPort`, between an agent and the broker (a network
 * partition) or between agents and the API (a slow link for artifact downloads).
 *
 * `partition()` is a silent one: established connections stay open but carry nothing in either direction, and
 * new connections are accepted but never reach the target, as when a link drops packets. Keep-alive time-outs
 * on both ends notice it, as they would in the field. `heal()` lets everything that waited through.
 */
export class TcpProxy {
  partitioned = false;
  /** Limit of the target → client direction (downloads), or undefined for none. */
  throttleBytesPerSecond: number | undefined;
  /** Bytes forwarded from the target to clients (e.g. artifact bytes downloaded). */
  bytesToClients = 0;
  private readonly links = new Set<Link>();

  private constructor(
    private readonly server: Server,
    readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer({ allowHalfOpen: true });
    const proxy = new TcpProxy(server, targetPort);
    server.on('connection', (client) => proxy.links.add(new Link(client, proxy)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  partition(): void {
    this.partitioned = true;
  }

  heal(): void {
    this.partitioned = false;
    for (const link of [...this.links]) link.resume();
  }

  forget(link: Link): void {
    this.links.delete(link);
  }

  async close(): Promise<void> {
    this.partitioned = false;
    for (const link of [...this.links]) link.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
