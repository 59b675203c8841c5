import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { verifyDeliverySignature } from '../src/webhooks/webhook-signature';
import { apiRequest } from './support/api-request';
import { range } from './support/event-device';
import { eventually } from './support/eventually';
import { useEventFleet } from './support/event-fleet';
import { uniqueSuffix } from './support/test-environment';

interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local webhook receiver answering 500 to the first `failures` requests, then 200 (or always 500). */
async function startReceiver(
  failures: number,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = received.length < failures ? 500 : 200;
      received.push({ status, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('webhooks with external services', () => {
  const fleet = useEventFleet('external-services', {
    WEBHOOK_BACKOFF_MS: '100',
    WEBHOOK_DISABLE_AFTER_FAILURES: '3',
  });
  const newDevice = () => fleet.newDevice();

  it('delivers each matching event once, signed, to a receiver that fails twice first', async () => {
    const receiver = await startReceiver(2);
    fleet.onCleanup(() => receiver.close());
    const device = await newDevice();
    const secret = `whsec-${uniqueSuffix()}-0123456789`;
    const created = await apiRequest<{ id: string }>(fleet.controlPlane.httpUrl, 'POST', '/webhooks', {
      body: { url: receiver.url, secret, filter: { device: device.id } },
    });
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('secret');
    await device.send(range(1, 3));

    const successes = await eventually(
      () => Promise.resolve(receiver.received.filter((request) => request.status === 200)),
      (ok) => ok.length >= 3,
      { what: 'three successful deliveries', timeoutMs: 20_000 },
    );
    // Let any stray retry arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received).toHaveLength(5);
    const seqs = successes.map(
      (request) => (JSON.parse(request.body) as { event: { seq: number } }).event.seq,
    );
    expect(seqs.sort()).toEqual([1, 2, 3]);
    for (const request of receiver.received) {
      const timestamp = String(request.headers['x-emofleet-timestamp']);
      const signature = String(request.headers['x-emofleet-signature']);
      expect(verifyDeliverySignature(secret, timestamp, request.body, signature)).toBe(true);
      expect(verifyDeliverySignature('another-secret-000', timestamp, request.body, signature)).toBe(false);
    }
    const log = await apiRequest<{ items: Array<{ status: string; attempts: number }> }>(
      fleet.controlPlane.httpUrl,
      'GET',
      `/webhooks/${created.body.id}/deliveries`,
    );
    expect(log.body.items.map((entry) => entry.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(log.body.items.reduce((sum, entry) => sum + entry.attempts, 0)).toBe(5);
  }, 40_000);

  it('disables a webhook after consecutive failures and shows why', async () => {
    const receiver = await startReceiver(Number.MAX_SAFE_INTEGER);
    fleet.onCleanup(() => receiver.close());
    const device = await newDevice();
    const created = await apiRequest<{ id: string }>(fleet.controlPlane.httpUrl, 'POST', '/webhooks', {
      body: { url: receiver.url, secret: 'a-secret-of-16-chars', filter: { device: device.id } },
    });
    await device.send([1]);
    const disabled = await eventually(
      () =>
        apiRequest<{ enabled: boolean; disabledReason: string | null }>(
          fleet.controlPlane.httpUrl,
          'GET',
          `/webhooks/${created.body.id}`,
        ),
      (response) => !response.body.enabled,
      { what: 'the webhook disabled', timeoutMs: 20_000 },
    );
    expect(disabled.body.disabledReason).toMatch(
      /disabled after 3 consecutive failed attempts; last: .*HTTP 500/,
    );
    const bad = await apiRequest(fleet.controlPlane.httpUrl, 'POST', '/webhooks', {
      body: { url: 'ftp://example.com/x', secret: 'short' },
    });
    expect(bad.status).toBe(400);
  }, 40_000);
});
