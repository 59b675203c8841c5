import { request as httpRequest } from 'node:http';

/** The parts of the control plane's HTTP API the suite reads and drives (docs/*.md), as the admin. */

export interface DeviceJobView {
  jobId: string;
  deviceId: string;
  operation: string;
  status: string;
  versionNumber: number;
  statusDetails: { step?: string; progress?: number; reason?: string };
  modelVersionId: string | null;
  desiredVersion: number | null;
}

export interface DeviceJobDetail extends DeviceJobView {
  updates: { status: string; step: string | null; versionNumber: number; source: string; at: string }[];
}

export interface DeviceView {
  id: string;
  online: boolean;
  currentModel: { modelId: string; version: string } | null;
  desiredModel: { modelId: string; version: string } | null;
}

export interface EventContinuity {
  highestContiguousSeq: number;
  highestStoredSeq: number;
  storedEvents: number;
  lostEvents: number;
  lostRanges: { fromSeq: number; toSeq: number }[];
  missingRanges: { fromSeq: number; toSeq: number }[];
}

export interface ApiEvent {
  id: string;
  deviceId: string;
  seq: number;
}

export interface RolloutView {
  id: string;
  state: string;
  stateReason: string | null;
  currentPhase: number;
  devices: Record<string, number>;
  targets: {
    deviceId: string;
    state: string;
    attempts: number;
    jobId: string | null;
    jobStatus: string | null;
    failure: { type: string; reason: string } | null;
  }[];
}

export interface HealthCheckSpec {
  warmupFrames: number;
  measureFrames: number;
  minFps: number;
  minAccuracy: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ControlPlaneApi {
  constructor(
    private readonly baseUrl: () => string,
    private readonly adminToken: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const { status, text } = await send(
      `${this.baseUrl()}${path}`,
      method,
      {
        authorization: `Bearer ${this.adminToken}`,
        accept: 'application/json',
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      payload,
    );
    if (status < 200 || status > 299)
      throw new ApiError(status, `${method} ${path}: ${status} ${text.slice(0, 500)}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async createEnrolmentToken(name: string, uses: number, tags: Record<string, string> = {}): Promise<string> {
    const created = await this.request<{ token: string }>('POST', '/enrolment-tokens', {
      name,
      maxUses: uses,
      tags,
    });
    return created.token;
  }

  /** Enrols a device (what `emofleet-agent enroll` does) and returns its identity and the manifest key. */
  enrol(
    token: string,
    name: string,
  ): Promise<{ deviceId: string; secret: string; signingPublicKey: string }> {
    return this.request('POST', '/enrol', { token, name });
  }

  /** The Prometheus text of `/metrics`. */
  async metrics(): Promise<string> {
    const { status, text } = await send(
      `${this.baseUrl()}/metrics`,
      'GET',
      { authorization: `Bearer ${this.adminToken}` },
      undefined,
    );
    if (status !== 200) throw new ApiError(status, `GET /metrics: ${status}`);
    return text;
  }

  createRollout(body: Record<string, unknown>): Promise<RolloutView> {
    return this.request('POST', '/rollouts', body);
  }

  rollout(id: string): Promise<RolloutView> {
    return this.request('GET', `/rollouts/${id}`);
  }

  async uploadModelVersion(
    model: string,
    files: { cfg: string; weights: Buffer; names: string },
  ): Promise<{ id: string; version: number; jobId: string }> {
    const form = new FormData();
    form.append('cfg', new Blob([files.cfg]), 'model.cfg');
    form.append('weights', new Blob([files.weights]), 'model.weights');
    form.append('names', new Blob([files.names]), 'expressions.names');
    // The multipart encoding of the form, made by the platform.
    const encoded = new Response(form);
    const { status, text } = await send(
      `${this.baseUrl()}/models/${model}/versions`,
      'POST',
      {
        authorization: `Bearer ${this.adminToken}`,
        'content-type': encoded.headers.get('content-type') ?? '',
      },
      Buffer.from(await encoded.arrayBuffer()),
    );
    if (status !== 201) throw new ApiError(status, `upload of ${model}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as { id: string; version: number; jobId: string };
  }

  modelVersion(model: string, version: number): Promise<{ status: string; statusReason: string | null }> {
    return this.request('GET', `/models/${model}/versions/${version}`);
  }

  pipelineJob(
    jobId: string,
  ): Promise<{ status: string; attempts: number; logs: string[]; failedReason: string | null }> {
    return this.request('GET', `/jobs/${jobId}`);
  }

  assignModel(
    deviceId: string,
    modelVersionId: string | null,
    options: { healthCheck?: HealthCheckSpec; timeoutSeconds?: number } = {},
  ): Promise<DeviceJobView> {
    return this.request('PUT', `/devices/${deviceId}/desired-model`, { modelVersionId, ...options });
  }

  deviceJob(jobId: string): Promise<DeviceJobDetail> {
    return this.request('GET', `/device-jobs/${jobId}`);
  }

  async deviceJobs(deviceId: string): Promise<DeviceJobView[]> {
    return (await this.request<{ items: DeviceJobView[] }>('GET', `/devices/${deviceId}/jobs?limit=500`))
      .items;
  }

  device(deviceId: string): Promise<DeviceView> {
    return this.request('GET', `/devices/${deviceId}`);
  }

  continuity(deviceId: string): Promise<EventContinuity> {
    return this.request('GET', `/events/continuity/${deviceId}`);
  }

  /** Every event of `deviceId` that `GET /events` lists, following the cursor to the end. */
  async eventsOf(deviceId: string): Promise<ApiEvent[]> {
    const events: ApiEvent[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `device=${encodeURIComponent(deviceId)}&limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page: { items: ApiEvent[]; nextCursor: string | null } = await this.request(
        'GET',
        `/events?${query}`,
      );
      events.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return events;
  }
}

/**
 * One HTTP request on a connection of its own (node:http without keep-alive): a reused connection that the
 * server is closing (an api being killed and restarted, or just its idle time-out) would fail a request that
 * was never sent, and a POST cannot simply be retried.
 */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method,
        agent: false,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${url}: no answer within 30 s`)));
    request.on('error', reject);
    request.end(body);
  });
}
