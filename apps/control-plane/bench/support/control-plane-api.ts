/** One stored event as `GET /events` returns it (the fields the bench reads). */
export interface ListedEvent {
  id: string;
  deviceId: string;
  seq: number;
  startedAt: string;
}

export interface EventPage {
  items: ListedEvent[];
  nextCursor: string | null;
}

/** One device as `GET /devices` returns it (the fields the bench reads). */
export interface ListedDevice {
  id: string;
  lastTelemetry: { windowStart?: number } | null;
}

export type QueryParameters = Record<string, string | number | undefined>;

/** A model version as `POST /models/:name/versions` and `GET /models/:name/versions/:version` return it. */
export interface ModelVersionView {
  id: string;
  version: number;
  status: string;
  statusReason: string | null;
  /** Signed manifests of what devices download (present once the version is ready). */
  manifests?: { format: string; sha256: string; sizeBytes: number }[];
}

/** The control plane's HTTP API as an admin: JSON requests, model uploads and the Prometheus counters. */
export class ControlPlaneApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** GET `path` with `query`; resolves with the JSON body, or rejects naming the status and the error body. */
  async get<T>(path: string, query: QueryParameters = {}): Promise<T> {
    const response = await fetch(this.url(path, query), {
      headers: { authorization: `Bearer ${this.token}` },
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** POST `path` with a JSON body; resolves with the JSON answer, or rejects naming the status and the error body. */
  async post<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('POST', path, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** Uploads a darknet model version (cfg, weights, names) as `multipart/form-data`. */
  uploadModelVersion(
    model: string,
    files: { cfg: string; weights: Uint8Array; names: string },
  ): Promise<ModelVersionView> {
    const form = new FormData();
    form.append('cfg', new Blob([files.cfg]), 'model.cfg');
    form.append('weights', new Blob([files.weights]), 'model.weights');
    form.append('names', new Blob([files.names]), 'model.names');
    return this.send('POST', `/models/${encodeURIComponent(model)}/versions`, { body: form });
  }

  modelVersion(model: string, version: number): Promise<ModelVersionView> {
    return this.get(`/models/${encodeURIComponent(model)}/versions/${version}`);
  }

  /** The PEM of the key the control plane signs model manifests with (what enrolment hands a device). */
  async signingPublicKey(): Promise<string> {
    return (await this.get<{ publicKeyPem: string }>('/signing-key')).publicKeyPem;
  }

  listEvents(query: QueryParameters): Promise<EventPage> {
    return this.get<EventPage>('/events', query);
  }

  async listDevices(query: QueryParameters): Promise<ListedDevice[]> {
    return (await this.get<{ items: ListedDevice[] }>('/devices', query)).items;
  }

  /** The unlabelled samples of `/metrics` (`name value`, e.g. `emofleet_events_stored_total`) and when they came. */
  async metrics(): Promise<{ samples: Map<string, number>; answeredAt: number }> {
    const response = await fetch(this.url('/metrics', {}), {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!response.ok) throw new Error(`GET /metrics: HTTP ${response.status}`);
    const text = await response.text();
    const answeredAt = Date.now();
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      const sample = /^([a-z_:][a-z0-9_:]*) ([-+0-9.eE]+|NaN)$/i.exec(line);
      if (sample?.[1] !== undefined) samples.set(sample[1], Number(sample[2]));
    }
    return { samples, answeredAt };
  }

  private async send<T>(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body: string | FormData },
  ): Promise<T> {
    const response = await fetch(this.url(path, {}), {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...init.headers },
      body: init.body,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  private url(path: string, query: QueryParameters): string {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }
}
