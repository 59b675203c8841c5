import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { startTestControlPlane, type TestControlPlane } from './support/test-control-plane';
import { testConfig, CONTROL_PLANE_START_TIMEOUT_MS } from './support/test-environment';
import { type ApiErrorResponseBody, apiRequest } from './support/api-request';

interface TokenView {
  id: string;
  name: string;
  role: string;
  state: string;
  lastUsedAt: string | null;
  token?: string;
}

interface AuditView {
  items: Array<{
    id: string;
    actor: { tokenId: string; name: string | null; role: string | null } | null;
    method: string;
    route: string;
    path: string;
    targetId: string | null;
    status: number;
  }>;
  nextCursor: string | null;
}

describe('API tokens, roles and the audit log (PostgreSQL)', () => {
  let started: TestControlPlane | undefined;
  let controlPlane: RunningControlPlane;
  const call = <T>(method: string, path: string, options?: { token?: string | null; body?: unknown }) =>
    apiRequest<T>(controlPlane.httpUrl, method, path, options);
  const createToken = async (role: string, extra: Record<string, unknown> = {}): Promise<TokenView> => {
    const created = await call<TokenView>('POST', '/tokens', {
      body: { name: `${role}-token`, role, ...extra },
    });
    expect(created.status).toBe(201);
    return created.body;
  };

  beforeAll(async () => {
    started = await startTestControlPlane('external-services');
    controlPlane = started.controlPlane;
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await started?.close();
  }, 30_000);

  it('answers 401 with the JSON error shape and WWW-Authenticate without a usable token', async () => {
    const missing = await call<ApiErrorResponseBody>('GET', '/devices', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(missing.body.error.message).toContain('Authorization: Bearer');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const unknown = await call<ApiErrorResponseBody>('GET', '/devices', { token: 'emf_not-a-real-token' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toBe('unknown API token');

    const wrongScheme = await fetch(`${controlPlane.httpUrl}/devices`, {
      headers: { authorization: 'Basic Zm9vOmJhcg==' },
    });
    expect(wrongScheme.status).toBe(401);
  });

  it('keeps /health and the OpenAPI document public', async () => {
    expect((await call('GET', '/health', { token: null })).status).toBe(200);
    expect((await call('GET', '/docs-json', { token: null })).status).toBe(200);
  });

  it('shows a new token once, stores only its hash, and enforces roles with 403', async () => {
    const viewer = await createToken('viewer');
    const operator = await createToken('operator');
    expect(viewer.token).toMatch(/^emf_[A-Za-z0-9_-]{43}$/);

    const list = await call<{ items: TokenView[] }>('GET', '/tokens');
    expect(list.status).toBe(200);
    const listed = list.body.items.find((token) => token.id === viewer.id);
    expect(listed).toMatchObject({ name: 'viewer-token', role: 'viewer', state: 'active' });
    expect(JSON.stringify(list.body)).not.toContain(viewer.token);

    expect((await call('GET', '/devices', { token: viewer.token })).status).toBe(200);
    const forbidden = await call<ApiErrorResponseBody>('POST', '/tokens', {
      token: viewer.token,
      body: { name: 'escalate', role: 'admin' },
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ status: 403, code: 'forbidden' });
    expect(forbidden.body.error.message).toContain('needs the admin role');
    expect((await call('GET', '/tokens', { token: operator.token })).status).toBe(403);

    const used = await call<{ items: TokenView[] }>('GET', '/tokens');
    expect(used.body.items.find((token) => token.id === viewer.id)?.lastUsedAt).not.toBeNull();
  });

  it('refuses revoked and expired tokens with 401', async () => {
    const revoked = await createToken('operator');
    const revocation = await call<TokenView>('DELETE', `/tokens/${revoked.id}`);
    expect(revocation.status).toBe(200);
    expect(revocation.body.state).toBe('revoked');
    const refused = await call<ApiErrorResponseBody>('GET', '/devices', { token: revoked.token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe(`API token ${revoked.id} was revoked`);

    const expiring = await createToken('viewer', { expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await call('GET', '/devices', { token: expiring.token })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const expired = await call<ApiErrorResponseBody>('GET', '/devices', { token: expiring.token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(new RegExp(`API token ${expiring.id} expired at `));
  });

  it('validates token creation and rejects an expiry in the past', async () => {
    const bad = await call<ApiErrorResponseBody>('POST', '/tokens', {
      body: { name: '', role: 'root', expiresAt: '2000-01-01T00:00:00Z' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/name/);
    expect(bad.body.error.message).toMatch(/role/);
    expect(bad.body.error.message).toMatch(/expiresAt: must be in the future/);
    expect((await call('DELETE', '/tokens/tok_missing')).status).toBe(404);
  });

  it('audits every mutating call with who, what and the outcome, including refused ones', async () => {
    const viewer = await createToken('viewer');
    await call('POST', '/tokens', { token: viewer.token, body: { name: 'nope', role: 'viewer' } });
    await call('POST', '/tokens', { token: 'emf_wrong', body: { name: 'nope', role: 'viewer' } });
    await call('GET', '/devices', { token: viewer.token });

    const audit = await call<AuditView>('GET', '/audit?route=/tokens&limit=500');
    expect(audit.status).toBe(200);
    const creation = audit.body.items.find((entry) => entry.targetId === viewer.id);
    expect(creation).toMatchObject({
      actor: { tokenId: 'tok_configured_admin', name: 'EMOFLEET_ADMIN_TOKEN', role: 'admin' },
      method: 'POST',
      route: '/tokens',
      path: '/tokens',
      status: 201,
    });
    expect(audit.body.items.find((entry) => entry.actor?.tokenId === viewer.id)).toMatchObject({
      status: 403,
    });
    expect(audit.body.items.find((entry) => entry.actor === null && entry.status === 401)).toBeDefined();
    expect(audit.body.items.every((entry) => entry.method !== 'GET')).toBe(true);

    const byViewer = await call<AuditView>(`GET`, `/audit?actorTokenId=${viewer.id}`);
    expect(byViewer.body.items).toHaveLength(1);
    expect((await call('GET', '/audit', { token: viewer.token })).status).toBe(403);
  });

  it('pages the audit log newest first with a cursor', async () => {
    const first = await call<AuditView>('GET', '/audit?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await call<AuditView>('GET', `/audit?limit=2&cursor=${first.body.nextCursor ?? ''}`);
    const ids = [...first.body.items, ...second.body.items].map((entry) => Number(entry.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await call('GET', '/audit?cursor=abc')).status).toBe(400);
  });
});

describe('admin token bootstrap (embedded database)', () => {
  it('creates one admin token at first start, prints it once, writes it 0600, and never again', async () => {
    const test = testConfig('embedded', { EMOFLEET_ADMIN_TOKEN: '' });
    const lines: string[] = [];
    let controlPlane = await startControlPlane(test.config, (line) => lines.push(line));
    try {
      const file = join(test.dataDir, 'admin-token');
      const token = readFileSync(file, 'utf8').trim();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(lines.join('\n')).toContain(token);
      const me = await apiRequest<{ items: TokenView[] }>(controlPlane.httpUrl, 'GET', '/tokens', { token });
      expect(me.status).toBe(200);
      expect(me.body.items).toEqual([expect.objectContaining({ name: 'initial-admin', role: 'admin' })]);
      const initialId = me.body.items[0]?.id ?? '';

      const lastAdmin = await apiRequest<ApiErrorResponseBody>(
        controlPlane.httpUrl,
        'DELETE',
        `/tokens/${initialId}`,
        {
          token,
        },
      );
      expect(lastAdmin.status).toBe(409);
      expect(lastAdmin.body.error.message).toContain('last usable admin token');

      await controlPlane.close();
      lines.length = 0;
      controlPlane = await startControlPlane(test.config, (line) => lines.push(line));
      expect(lines.join('\n')).not.toContain('emf_');
      expect((await apiRequest(controlPlane.httpUrl, 'GET', '/tokens', { token })).status).toBe(200);
    } finally {
      await controlPlane.close();
      test.cleanup();
    }
  }, 60_000);
});
