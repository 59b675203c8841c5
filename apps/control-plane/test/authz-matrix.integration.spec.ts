import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { apiRequest } from './support/api-request';
import {
  createTestDatabase,
  testAdminToken,
  testConfig,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

/**
 * The least role every endpoint needs (`public`: no token). Keyed by `METHOD /openapi/path`. EVERY endpoint in
 * the OpenAPI document must be listed here, and nothing else: a new endpoint fails this test until its author
 * states who may call it.
 */
const REQUIRED: Readonly<Record<string, 'public' | 'viewer' | 'operator' | 'admin'>> = {
  'GET /health': 'public',
  'GET /devices': 'viewer',
  'GET /devices/{id}': 'viewer',
  'PATCH /devices/{id}': 'operator',
  'DELETE /devices/{id}': 'operator',
  'PUT /devices/{id}/desired-model': 'operator',
  'POST /devices/{id}/jobs': 'operator',
  'GET /devices/{id}/jobs': 'viewer',
  'GET /device-jobs/{jobId}': 'viewer',
  'POST /device-jobs/{jobId}/cancel': 'operator',
  'GET /tokens': 'admin',
  'GET /tokens/current': 'viewer',
  'POST /tokens': 'admin',
  'DELETE /tokens/{id}': 'admin',
  'GET /audit': 'admin',
  'GET /enrolment-tokens': 'operator',
  'POST /enrolment-tokens': 'operator',
  'DELETE /enrolment-tokens/{id}': 'operator',
  'POST /enrol': 'public',
  'GET /artifacts/{sha256}': 'public',
  'GET /signing-key': 'public',
  'GET /models': 'viewer',
  'GET /models/{name}/versions': 'viewer',
  'GET /models/{name}/versions/{version}': 'viewer',
  'POST /models/{name}/versions': 'operator',
  'POST /models/{name}/versions/from-path': 'admin',
  'POST /models/{name}/versions/{version}/quantize': 'operator',
  'GET /jobs/{id}': 'viewer',
  'POST /models/{versionId}/engines': 'operator',
  'GET /models/{versionId}/engines': 'viewer',
  'GET /engine-builds/{cacheKey}': 'viewer',
  'GET /engine-builds/{cacheKey}/calibration-cache': 'public',
  'PUT /engine-builds/{cacheKey}/engine': 'public',
  'GET /events': 'viewer',
  'DELETE /events': 'admin',
  'GET /events/export': 'viewer',
  'GET /events/stream': 'viewer',
  'GET /events/aggregates': 'viewer',
  'GET /events/continuity/{deviceId}': 'viewer',
  'GET /telemetry/fleet': 'viewer',
  'GET /devices/{id}/telemetry': 'viewer',
  'GET /fleet/summary': 'viewer',
  'GET /metrics': 'viewer',
  'GET /webhooks': 'operator',
  'POST /webhooks': 'operator',
  'GET /webhooks/{id}': 'operator',
  'DELETE /webhooks/{id}': 'operator',
  'GET /webhooks/{id}/deliveries': 'operator',
  'POST /webhooks/{id}/enable': 'operator',
  'GET /rollouts': 'viewer',
  'POST /rollouts': 'operator',
  'POST /rollouts/preview': 'viewer',
  'GET /rollouts/events': 'viewer',
  'GET /rollouts/events/stream': 'viewer',
  'GET /rollouts/{id}': 'viewer',
  'POST /rollouts/{id}/approve': 'operator',
  'POST /rollouts/{id}/pause': 'operator',
  'POST /rollouts/{id}/resume': 'operator',
  'POST /rollouts/{id}/cancel': 'operator',
  'POST /rollouts/{id}/abort': 'operator',
};

const ROLE_ORDER = ['viewer', 'operator', 'admin'] as const;
type Caller = 'admin' | 'operator' | 'viewer' | 'no token' | 'bad token' | 'expired token' | 'revoked token';
const CALLERS: readonly Caller[] = [
  'admin',
  'operator',
  'viewer',
  'no token',
  'bad token',
  'expired token',
  'revoked token',
];
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** What `caller` must get from an endpoint needing `required`: `allowed` = anything but 401/403. */
function expectedOutcome(required: (typeof REQUIRED)[string], caller: Caller): 401 | 403 | 'allowed' {
  if (required === 'public') return 'allowed';
  if (caller !== 'admin' && caller !== 'operator' && caller !== 'viewer') return 401;
  return ROLE_ORDER.indexOf(caller) >= ROLE_ORDER.indexOf(required) ? 'allowed' : 403;
}

/**
 * The status of one call. Only the status line is read: streaming endpoints (server-sent events, exports)
 * would never end, so the body is cancelled.
 */
async function statusOf(
  baseUrl: string,
  method: string,
  path: string,
  token: string | null,
  body: unknown,
): Promise<number> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await response.body?.cancel();
  return response.status;
}

describe('authorization matrix: every endpoint x every kind of caller', () => {
  let controlPlane: RunningControlPlane;
  let endpoints: string[];
  const tokens = new Map<Caller, string | null>();
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('embedded', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    controlPlane = await startControlPlane(test.config, () => undefined);

    const document = await apiRequest<{ paths: Record<string, Record<string, unknown>> }>(
      controlPlane.httpUrl,
      'GET',
      '/docs-json',
      { token: null },
    );
    endpoints = Object.entries(document.body.paths).flatMap(([path, operations]) =>
      HTTP_METHODS.filter((method) => method in operations).map(
        (method) => `${method.toUpperCase()} ${path}`,
      ),
    );

    const create = async (role: string, expiresAt?: string) => {
      const created = await apiRequest<{ id: string; token: string }>(
        controlPlane.httpUrl,
        'POST',
        '/tokens',
        {
          body: { name: `matrix ${role}`, role, expiresAt },
        },
      );
      if (created.status !== 201)
        throw new Error(`creating a ${role} token: ${JSON.stringify(created.body)}`);
      return created.body;
    };
    tokens.set('admin', testAdminToken);
    tokens.set('operator', (await create('operator')).token);
    tokens.set('viewer', (await create('viewer')).token);
    tokens.set('no token', null);
    tokens.set('bad token', 'emf_this-token-was-never-issued');
    const revoked = await create('admin');
    await apiRequest(controlPlane.httpUrl, 'DELETE', `/tokens/${revoked.id}`);
    tokens.set('revoked token', revoked.token);
    tokens.set('expired token', (await create('admin', new Date(Date.now() + 1000).toISOString())).token);
    await new Promise((resolve) => setTimeout(resolve, 1100));
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  it('lists every endpoint of the OpenAPI document, and only those', () => {
    const missing = endpoints.filter((endpoint) => !(endpoint in REQUIRED));
    const stale = Object.keys(REQUIRED).filter((endpoint) => !endpoints.includes(endpoint));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('answers every caller of every endpoint as its role requires', async () => {
    const mismatches: string[] = [];
    for (const endpoint of endpoints) {
      const required = REQUIRED[endpoint];
      if (required === undefined) continue; // reported by the test above
      const [method = 'GET', template = '/'] = endpoint.split(' ');
      // Ids that do not exist and empty bodies: allowed callers get 4xx from validation or lookup, never a change.
      const path = template.replace(/\{[^}]+\}/g, 'authz-matrix-missing');
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      for (const caller of CALLERS) {
        const actual = await statusOf(controlPlane.httpUrl, method, path, tokens.get(caller) ?? null, body);
        const expected = expectedOutcome(required, caller);
        const ok =
          expected === 'allowed' ? actual !== 401 && actual !== 403 && actual < 500 : actual === expected;
        if (!ok) mismatches.push(`${endpoint} as ${caller}: expected ${expected}, got ${actual}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 60_000);
});
