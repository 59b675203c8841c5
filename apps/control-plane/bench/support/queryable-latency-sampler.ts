import { type TopicScheme } from '@emofleet/protocol';
import { connectAsync, type MqttClient } from 'mqtt';
import { type ControlPlaneApi } from './control-plane-api';

export interface QueryableLatencies {
  /** Event published (first seen on the broker) → first returned by `GET /events`, in ms. */
  eventsMs: number[];
  /**
   * The expression ended (`startedAt + durationMs`) → first returned by `GET /events`: adds the agent's side
   * (the tracker's 0.5 s label debounce, the spool's sync interval) to `eventsMs`.
   */
  eventsFromExpressionEndMs: number[];
  /** Telemetry window published → shown as the device's latest telemetry by `GET /devices`, in ms. */
  telemetryMs: number[];
  /** Events seen on the broker during the measurement that the API never returned before `finish`. */
  eventsNeverQueryable: number;
  /** Windows seen on the broker that the API never showed (or a newer window replaced before a poll saw it). */
  telemetryNeverShown: number;
  telemetryReplacedBeforeShown: number;
  /** API requests per second the polling made (its own load on the control plane). */
  apiRequestsPerSecond: number;
  /** Polls the API answered with an error (an overloaded control plane); polling went on. */
  apiErrors: number;
  /** The first such error. */
  firstApiError: string | undefined;
}

interface PendingEvent {
  observedAt: number;
  startedAt: number;
  endedAt: number;
}

/**
 * Times ingest-to-queryable for a sample of devices (tagged `sampleTag`): a plain MQTT subscriber notes when
 * each event batch and telemetry window of those devices passes the broker; a poller asks the API every
 * `pollIntervalMs` for what is still pending (`GET /events?tags=…&from=<oldest pending start>`, all pages, so
 * an event committed late under a lower id is not skipped; `GET /devices?tags=…` for the latest telemetry).
 * The latency ends when the poll's answer arrives, so it is an upper bound with `pollIntervalMs` resolution.
 * Only messages first seen while `recording` are timed.
 */
export class QueryableLatencySampler {
  recording = false;
  private readonly pendingEvents = new Map<string, PendingEvent>();
  private readonly seenEvents = new Set<string>();
  /** `<device>:<windowStart>` → when the broker passed it. */
  private readonly pendingTelemetry = new Map<string, number>();
  private readonly eventLatencies: number[] = [];
  private readonly eventFromEndLatencies: number[] = [];
  private readonly telemetryLatencies: number[] = [];
  private telemetryReplaced = 0;
  private apiRequests = 0;
  private apiErrors = 0;
  private firstApiError: string | undefined;
  private readonly startedAt = Date.now();
  private polling: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    private readonly observer: MqttClient,
    private readonly api: ControlPlaneApi,
    private readonly sampleTag: string,
    private readonly sampleSize: number,
    private readonly pollIntervalMs: number,
  ) {}

  static async start(options: {
    mqttUrl: string;
    topics: TopicScheme;
    sampleDeviceIds: readonly string[];
    sampleTag: string;
    api: ControlPlaneApi;
    pollIntervalMs: number;
  }): Promise<QueryableLatencySampler> {
    const observer = await connectAsync(options.mqttUrl, {
      clientId: `emofleet-bench-observer-${process.pid}-${Date.now()}`,
      clean: true,
      reconnectPeriod: 1000,
    });
    const sampler = new QueryableLatencySampler(
      observer,
      options.api,
      options.sampleTag,
      options.sampleDeviceIds.length,
      options.pollIntervalMs,
    );
    observer.on('message', (topic, payload) => sampler.onBrokerMessage(topic, payload, options.topics));
    await observer.subscribeAsync(
      options.sampleDeviceIds.flatMap((deviceId) => [
        options.topics.filterFor('events', deviceId),
        options.topics.filterFor('telemetry', deviceId),
      ]),
      { qos: 1 },
    );
    sampler.polling = sampler.pollUntilStopped();
    return sampler;
  }

  /** Waits (at most `timeoutMs`) until everything recorded has been seen through the API, then stops. */
  async finish(timeoutMs: number): Promise<QueryableLatencies> {
    this.recording = false;
    const deadline = Date.now() + timeoutMs;
    while (
      (this.pendingEvents.size > 0 || this.pendingTelemetry.size > 0) &&
      Date.now() < deadline &&
      !this.stopped
    )
      await sleep(this.pollIntervalMs);
    this.stopped = true;
    await this.polling;
    await this.observer.endAsync();
    return {
      eventsMs: this.eventLatencies,
      eventsFromExpressionEndMs: this.eventFromEndLatencies,
      telemetryMs: this.telemetryLatencies,
      eventsNeverQueryable: this.pendingEvents.size,
      telemetryNeverShown: this.pendingTelemetry.size,
      telemetryReplacedBeforeShown: this.telemetryReplaced,
      apiRequestsPerSecond: this.apiRequests / ((Date.now() - this.startedAt) / 1000),
      apiErrors: this.apiErrors,
      firstApiError: this.firstApiError,
    };
  }

  /** Closes the broker connection without waiting (cleanup after a failure). */
  close(): void {
    this.stopped = true;
    this.observer.end(true);
  }

  private onBrokerMessage(topic: string, payload: Buffer, topics: TopicScheme): void {
    const observedAt = Date.now();
    const address = topics.parse(topic);
    if (!address.ok) return;
    if (address.kind === 'events') {
      const batch = JSON.parse(payload.toString('utf8')) as {
        events: { seq: number; startedAt: number; durationMs: number }[];
      };
      for (const event of batch.events) {
        const key = `${address.deviceId}:${event.seq}`;
        // A re-sent batch is not a new publication: only the first passage counts.
        if (this.seenEvents.has(key)) continue;
        this.seenEvents.add(key);
        if (this.recording)
          this.pendingEvents.set(key, {
            observedAt,
            startedAt: event.startedAt,
            endedAt: event.startedAt + event.durationMs,
          });
      }
    } else if (address.kind === 'telemetry' && this.recording) {
      const window = JSON.parse(payload.toString('utf8')) as { windowStart: number };
      this.pendingTelemetry.set(`${address.deviceId}:${window.windowStart}`, observedAt);
    }
  }

  /**
   * Polls until stopped. An API error (an overloaded control plane answering 500) is counted and polling goes on:
   * what is pending stays pending until an answer shows it, so the latency includes the failed polls.
   */
  private async pollUntilStopped(): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      try {
        if (this.pendingEvents.size > 0) await this.pollEvents();
        if (this.pendingTelemetry.size > 0) await this.pollTelemetry();
      } catch (error) {
        this.apiErrors += 1;
        this.firstApiError ??= error instanceof Error ? error.message : String(error);
      }
      await sleep(Math.max(0, this.pollIntervalMs - (Date.now() - started)));
    }
  }

  private async pollEvents(): Promise<void> {
    let oldestStart = Number.POSITIVE_INFINITY;
    for (const pending of this.pendingEvents.values()) oldestStart = Math.min(oldestStart, pending.startedAt);
    let cursor: string | undefined;
    do {
      this.apiRequests += 1;
      const page = await this.api.listEvents({
        tags: this.sampleTag,
        from: new Date(oldestStart).toISOString(),
        limit: 1000,
        cursor,
      });
      const answeredAt = Date.now();
      for (const event of page.items) {
        const key = `${event.deviceId}:${event.seq}`;
        const pending = this.pendingEvents.get(key);
        if (pending === undefined) continue;
        this.eventLatencies.push(answeredAt - pending.observedAt);
        this.eventFromEndLatencies.push(answeredAt - pending.endedAt);
        this.pendingEvents.delete(key);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  private async pollTelemetry(): Promise<void> {
    this.apiRequests += 1;
    const devices = await this.api.listDevices({ tags: this.sampleTag, limit: this.sampleSize });
    const answeredAt = Date.now();
    for (const device of devices) {
      const shown = device.lastTelemetry?.windowStart;
      if (shown === undefined) continue;
      for (const [key, observedAt] of this.pendingTelemetry) {
        const [deviceId, windowStart] = key.split(':');
        if (deviceId !== device.id || Number(windowStart) > shown) continue;
        if (Number(windowStart) === shown) this.telemetryLatencies.push(answeredAt - observedAt);
        else this.telemetryReplaced += 1;
        this.pendingTelemetry.delete(key);
      }
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
