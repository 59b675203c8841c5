import * as path from 'node:path';
import { type IClientOptions } from 'mqtt';
import {
  buildPublication,
  decodeMessage,
  deviceSubscriptions,
  PROTOCOL_VERSION,
  RejectionCounter,
  type BirthMessage,
  type DecodeRejection,
  type MessageKind,
  type MessageOf,
  type MqttProtocolVersion,
  type Publication,
  type StateMessage,
  type TopicScheme,
} from '@emofleet/protocol';
import { type Logger } from '../logger';
import { FullJitterBackoff, type BackoffPolicy } from './backoff';
import { connectMqttClient, type ConnectionClient, type ConnectionClientFactory } from './mqtt-client';
import { SessionSequenceStore } from './session-sequence-store';

/** What the agent tells the control plane about itself in every birth. */
export type BirthContent = Pick<
  BirthMessage,
  'agentVersion' | 'capabilities' | 'runningModel' | 'lastRollback'
>;

/** Messages the control plane sends to a device, which agent components subscribe to. */
export type InboundKind = 'desired' | 'job-notify-next' | 'job-update-response' | 'events-ack';

/** Messages agent components publish; birth and state belong to the connection itself. */
export type OutboundKind = 'telemetry' | 'events' | 'job-update';

export interface InboundMessage<K extends InboundKind> {
  readonly kind: K;
  readonly message: MessageOf<K>;
  readonly jobId?: string;
  /** True when the broker delivered a retained message because we (re)subscribed. */
  readonly retained: boolean;
}

export type InboundHandler<K extends InboundKind> = (inbound: InboundMessage<K>) => void | Promise<void>;

export type ConnectionStatus = 'stopped' | 'connecting' | 'online' | 'waiting-to-reconnect' | 'stopping';

export interface DeviceConnectionOptions {
  readonly url: string;
  readonly deviceId: string;
  readonly secret: string;
  /** Directory for the session sequence file. */
  readonly dataDir: string;
  readonly topics: TopicScheme;
  readonly protocolVersion: MqttProtocolVersion;
  readonly keepaliveSeconds: number;
  /** PEM CA pinned at enrolment for an mqtts:// broker. */
  readonly caCertificate?: string | null;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  /** A connection that lasted this long resets the backoff to its first step. */
  readonly stableConnectionMs?: number;
  /** Limit for CONNECT → CONNACK. */
  readonly connectTimeoutMs?: number;
  /** Limit for publishing the offline state and disconnecting in `stop()`. */
  readonly shutdownTimeoutMs?: number;
  /** Called before every birth, so a birth always tells the current capabilities and model. */
  readonly birth: () => BirthContent | Promise<BirthContent>;
  readonly logger: Logger;
  /** Injection points for tests. */
  readonly createClient?: ConnectionClientFactory;
  readonly backoff?: BackoffPolicy;
  readonly scheduler?: Scheduler;
  readonly now?: () => number;
}

export interface Scheduler {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realScheduler: Scheduler = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Thrown by `publish` while the device has no broker session; the caller keeps the data (e.g. in its spool). */
export class DeviceOfflineError extends Error {
  override readonly name = 'DeviceOfflineError';
  constructor(kind: MessageKind) {
    super(`Cannot publish ${kind}: the device is not connected to the broker`);
  }
}

/** One attempt to hold a broker session: one mqtt.js client, one bdSeq. */
interface Session {
  readonly bdSeq: number;
  readonly client: ConnectionClient;
  online: boolean;
  /** Set on the first `close`; mqtt.js may report a close again when the client is ended afterwards. */
  closed: boolean;
  connectedAt?: number;
  /** Subscribing and publishing birth + online after CONNACK; never rejects. */
  announcement?: Promise<void>;
  /** Publishes waiting for their PUBACK; failed when the client reports `close`. */
  readonly pendingPublishes: Set<() => void>;
}

/**
 * The device's MQTT session with the control plane. Connects as the device (client id and username = device id,
 * password = secret), registers a retained `offline` last will carrying the session's bdSeq, publishes birth and
 * `online` after every connect, and reconnects with exponential backoff and full jitter for as long as it runs
 * (mqtt.js's own fixed-period reconnect is disabled: every attempt is a fresh client with a fresh bdSeq and will).
 */
export class DeviceConnection {
  /** Set when the birth content changed while no online session could carry a new birth. */
  private birthOutdated = false;
  private readonly sessionSequence: SessionSequenceStore;
  private readonly createClient: ConnectionClientFactory;
  private readonly backoff: BackoffPolicy;
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly handlers = new Map<InboundKind, Set<InboundHandler<InboundKind>>>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly rejectionListeners = new Set<(rejection: DecodeRejection) => void>();
  private session: Session | undefined;
  private reconnectTimer: unknown;
  /** The connect attempt in progress (it may be persisting its bdSeq); `stop()` waits for it. */
  private connectAttempt: Promise<void> | undefined;
  private failedAttempts = 0;
  private currentStatus: ConnectionStatus = 'stopped';

  /** Messages from the broker that failed validation, by reason and kind. */
  readonly rejections = new RejectionCounter();

  constructor(private readonly options: DeviceConnectionOptions) {
    this.now = options.now ?? Date.now;
    this.createClient = options.createClient ?? connectMqttClient;
    this.scheduler = options.scheduler ?? realScheduler;
    this.backoff =
      options.backoff ??
      new FullJitterBackoff({
        initialDelayMs: options.reconnect.initialDelayMs,
        maxDelayMs: options.reconnect.maxDelayMs,
      });
    this.sessionSequence = new SessionSequenceStore({
      filePath: path.join(options.dataDir, 'connection-session.json'),
      now: this.now,
      onWarning: (message) => options.logger.warn(message),
    });
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  /** The bdSeq of the current (or last) session, if any. */
  get bdSeq(): number | undefined {
    return this.session?.bdSeq;
  }

  /** Starts connecting; returns at once. The connection keeps retrying until `stop()`. */
  start(): void {
    if (this.currentStatus !== 'stopped')
      throw new Error(`DeviceConnection already started (${this.currentStatus})`);
    this.failedAttempts = 0;
    this.setStatus('connecting');
    this.beginConnectAttempt();
  }

  /** Publishes the retained `offline` state, disconnects cleanly (so the broker drops the will) and stops. */
  async stop(): Promise<void> {
    if (this.currentStatus === 'stopped' || this.currentStatus === 'stopping') return;
    this.setStatus('stopping');
    this.scheduler.clearTimeout(this.reconnectTimer);
    // An attempt still writing its bdSeq sees the shutdown afterwards and gives up; waiting for it means nothing
    // touches the data directory once stop() has resolved.
    await this.connectAttempt;
    const session = this.session;
    if (session !== undefined) {
      const timeoutMs = this.options.shutdownTimeoutMs ?? 5000;
      const graceful = async () => {
        // Let a running birth/online announcement finish first, so `offline` is the last state published.
        await session.announcement;
        if (session.connectedAt !== undefined && !session.closed) await this.publishState(session, 'offline');
        await session.client.endAsync(false);
      };
      const completed = await withTimeout(graceful(), timeoutMs).catch((error: unknown) => {
        this.options.logger.warn('clean MQTT shutdown failed', { error });
        return false;
      });
      if (!completed) {
        this.options.logger.warn('clean MQTT shutdown did not finish in time; closing the socket', {
          timeoutMs,
        });
        await session.client.endAsync(true);
      }
      session.online = false;
    }
    this.setStatus('stopped');
  }

  /** Calls `listener` on every status change; returns a function that removes it. */
  onStatusChange(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Calls `listener` for every message from the broker that failed validation (e.g. a malformed desired state). */
  onRejection(listener: (rejection: DecodeRejection) => void): () => void {
    this.rejectionListeners.add(listener);
    return () => this.rejectionListeners.delete(listener);
  }

  /** Calls `handler` for every valid message of `kind` addressed to this device; returns an unsubscribe function. */
  onMessage<K extends InboundKind>(kind: K, handler: InboundHandler<K>): () => void {
    const set = this.handlers.get(kind) ?? new Set<InboundHandler<InboundKind>>();
    set.add(handler as unknown as InboundHandler<InboundKind>);
    this.handlers.set(kind, set);
    return () => set.delete(handler as unknown as InboundHandler<InboundKind>);
  }

  /**
   * Validates and publishes a message; resolves when the broker has it (PUBACK for QoS 1). Rejects with
   * `DeviceOfflineError` when there is no session, and with `ProtocolEncodeError` for an invalid message.
   */
  async publish<K extends OutboundKind>(kind: K, message: MessageOf<K>): Promise<void> {
    if (message.deviceId !== this.options.deviceId) {
      throw new RangeError(
        `Cannot publish ${kind} for device "${message.deviceId}" as "${this.options.deviceId}"`,
      );
    }
    const publication = buildPublication(this.options.topics, kind, message, this.options.protocolVersion);
    const session = this.session;
    if (session === undefined || !session.online) throw new DeviceOfflineError(kind);
    await this.send(session, kind, publication);
  }

  /**
   * Publishes a new birth in the current session, e.g. after the running model changed. While the session is
   * still being announced (or the device is offline), the birth on its way may carry the old content: a fresh
   * one is sent as soon as the session is online.
   */
  async republishBirth(): Promise<void> {
    const session = this.session;
    if (session === undefined || !session.online) {
      this.birthOutdated = true;
      return;
    }
    await this.publishBirth(session);
  }

  private async connect(): Promise<void> {
    if (this.isShuttingDown()) return;
    let bdSeq: number;
    try {
      bdSeq = await this.sessionSequence.next();
    } catch (error) {
      this.options.logger.error('cannot persist the MQTT session sequence', {
        error,
        dataDir: this.options.dataDir,
      });
      this.scheduleReconnect();
      return;
    }
    if (this.isShuttingDown()) return;
    const will = buildPublication(
      this.options.topics,
      'state',
      this.stateMessage('offline', bdSeq),
      this.options.protocolVersion,
    );
    const clientOptions: IClientOptions = {
      clientId: this.options.deviceId,
      username: this.options.deviceId,
      password: this.options.secret,
      protocolVersion: this.options.protocolVersion,
      clean: true,
      keepalive: this.options.keepaliveSeconds,
      connectTimeout: this.options.connectTimeoutMs ?? 30_000,
      reconnectPeriod: 0,
      resubscribe: false,
      will: { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain },
      ...(this.options.caCertificate ? { ca: this.options.caCertificate } : {}),
    };
    this.setStatus('connecting');
    this.options.logger.info('connecting to the MQTT broker', { url: this.options.url, bdSeq });
    const client = this.createClient(this.options.url, clientOptions);
    const session: Session = { bdSeq, client, online: false, closed: false, pendingPublishes: new Set() };
    this.session = session;
    client.on('connect', () => {
      session.announcement = this.onConnected(session);
    });
    client.on('message', (topic, payload, packet) =>
      this.onBrokerMessage(session, topic, payload, packet.retain),
    );
    client.on('error', (error) => this.options.logger.warn('MQTT connection error', { error, bdSeq }));
    client.on('close', () => {
      for (const fail of session.pendingPublishes) fail();
      this.onClosed(session);
    });
  }

  private async onConnected(session: Session): Promise<void> {
    if (session !== this.session || this.isShuttingDown()) return;
    session.connectedAt = this.now();
    try {
      const subscriptions = deviceSubscriptions(this.options.topics, this.options.deviceId);
      const grants = await session.client.subscribeAsync(
        Object.fromEntries(
          subscriptions.map((subscription) => [subscription.topic, { qos: subscription.qos }]),
        ),
      );
      for (const grant of grants) {
        if (grant.qos > 2)
          this.options.logger.error('the broker refused a subscription', { topic: grant.topic });
      }
      // The birth about to be composed carries the newest content.
      this.birthOutdated = false;
      await this.publishBirth(session);
      await this.publishState(session, 'online');
    } catch (error) {
      this.options.logger.warn('could not announce the session; the connection will be retried', { error });
      await session.client.endAsync(true).catch(() => undefined);
      return;
    }
    if (session !== this.session || this.isShuttingDown()) return;
    session.online = true;
    this.options.logger.info('online', { bdSeq: session.bdSeq });
    this.setStatus('online');
    if (this.birthOutdated) {
      this.birthOutdated = false;
      await this.publishBirth(session).catch((error: unknown) =>
        this.options.logger.warn('could not republish the birth', { error }),
      );
    }
  }

  private onClosed(session: Session): void {
    if (session !== this.session || session.closed) return;
    session.closed = true;
    const wasOnline = session.online;
    session.online = false;
    if (this.isShuttingDown()) return;
    const lasted = session.connectedAt === undefined ? 0 : this.now() - session.connectedAt;
    if (lasted >= (this.options.stableConnectionMs ?? 30_000)) this.failedAttempts = 0;
    if (wasOnline) this.options.logger.warn('connection to the MQTT broker lost', { bdSeq: session.bdSeq });
    void session.client.endAsync(true).catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.isShuttingDown()) return;
    const delayMs = this.backoff.delayForAttempt(this.failedAttempts);
    this.failedAttempts += 1;
    this.setStatus('waiting-to-reconnect');
    this.options.logger.info('reconnecting after backoff', { delayMs, attempt: this.failedAttempts });
    this.reconnectTimer = this.scheduler.setTimeout(() => this.beginConnectAttempt(), delayMs);
  }

  private beginConnectAttempt(): void {
    const attempt = this.connect().finally(() => {
      if (this.connectAttempt === attempt) this.connectAttempt = undefined;
    });
    this.connectAttempt = attempt;
  }

  private onBrokerMessage(session: Session, topic: string, payload: Buffer, retained: boolean): void {
    const result = decodeMessage(topic, payload, { topics: this.options.topics });
    if (!result.ok) {
      if (result.reason === 'empty-payload') return;
      this.rejections.record(result);
      for (const listener of this.rejectionListeners) listener(result);
      this.options.logger.warn('rejected a message from the broker', {
        topic,
        reason: result.reason,
        detail: result.detail,
      });
      return;
    }
    if (result.deviceId !== this.options.deviceId) return;
    switch (result.kind) {
      case 'state':
        this.healStaleWill(session, result.message, retained);
        return;
      case 'desired':
      case 'job-notify-next':
      case 'job-update-response':
      case 'events-ack':
        this.dispatch({ kind: result.kind, message: result.message, jobId: result.jobId, retained });
        return;
      case 'birth':
      case 'job-update':
      case 'telemetry':
      case 'events':
        return;
    }
  }

  /**
   * A last will of an older session can reach the broker after this session's `online` (the broker notices the
   * dead connection late) and overwrite the retained state. Seeing it live, we publish `online` again.
   */
  private healStaleWill(session: Session, state: StateMessage, retained: boolean): void {
    if (retained || !session.online || state.state !== 'offline' || state.bdSeq === session.bdSeq) return;
    this.options.logger.warn('a stale last will replaced the retained state; publishing online again', {
      staleBdSeq: state.bdSeq,
      bdSeq: session.bdSeq,
    });
    this.publishState(session, 'online').catch((error: unknown) =>
      this.options.logger.warn('could not republish the online state', { error }),
    );
  }

  private dispatch(inbound: InboundMessage<InboundKind>): void {
    for (const handler of this.handlers.get(inbound.kind) ?? []) {
      try {
        Promise.resolve(handler(inbound)).catch((error: unknown) =>
          this.options.logger.error('message handler failed', { kind: inbound.kind, error }),
        );
      } catch (error) {
        this.options.logger.error('message handler failed', { kind: inbound.kind, error });
      }
    }
  }

  private async publishBirth(session: Session): Promise<void> {
    const content = await this.options.birth();
    const birth: BirthMessage = {
      v: PROTOCOL_VERSION,
      deviceId: this.options.deviceId,
      bdSeq: session.bdSeq,
      timestamp: this.now(),
      ...content,
    };
    await this.send(
      session,
      'birth',
      buildPublication(this.options.topics, 'birth', birth, this.options.protocolVersion),
    );
  }

  private async publishState(session: Session, state: StateMessage['state']): Promise<void> {
    const message = this.stateMessage(state, session.bdSeq);
    await this.send(
      session,
      'state',
      buildPublication(this.options.topics, 'state', message, this.options.protocolVersion),
    );
  }

  private stateMessage(state: StateMessage['state'], bdSeq: number): StateMessage {
    return { v: PROTOCOL_VERSION, deviceId: this.options.deviceId, state, bdSeq, timestamp: this.now() };
  }

  /**
   * Publishes and waits for the broker's acknowledgement (QoS 1). A connection that closes first fails the
   * publish with `DeviceOfflineError`: mqtt.js may otherwise leave it pending forever once the client is ended.
   */
  private async send(session: Session, kind: MessageKind, publication: Publication): Promise<void> {
    if (session.closed) throw new DeviceOfflineError(kind);
    await new Promise<void>((resolve, reject) => {
      const fail = () => reject(new DeviceOfflineError(kind));
      session.pendingPublishes.add(fail);
      session.client
        .publishAsync(publication.topic, publication.payload, {
          qos: publication.qos,
          retain: publication.retain,
          ...(this.options.protocolVersion === 5 ? { properties: publication.properties } : {}),
        })
        .then(() => resolve(), reject)
        .finally(() => session.pendingPublishes.delete(fail));
    });
  }

  /** A method rather than an inline test so TypeScript does not narrow the status across awaits. */
  private isShuttingDown(): boolean {
    return this.currentStatus === 'stopping' || this.currentStatus === 'stopped';
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of this.statusListeners) listener(status);
  }
}

/** Resolves true when `work` finishes within `timeoutMs`, false otherwise (the work keeps running). */
async function withTimeout(work: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
