import { type RunningControlPlane } from '../../src/control-plane';
import { startTestControlPlane, type TestControlPlane } from '../support/test-control-plane';
import { type ApiErrorResponseBody, apiRequest } from '../support/api-request';
import { CONTROL_PLANE_START_TIMEOUT_MS } from '../support/test-environment';

/**
 * Replayed enrolment tokens, concurrently: a token may enrol exactly as many devices as its `maxUses`, however
 * many requests race for it (the use is taken by a conditional update in the enrolment transaction).
 * Sequential replays, expired and revoked tokens are covered by test/enrolment-broker.integration.spec.ts.
 */
describe('concurrent replays of enrolment tokens (PostgreSQL)', () => {
  let started: TestControlPlane | undefined;
  let controlPlane: RunningControlPlane;

  beforeAll(async () => {
    started = await startTestControlPlane('external-services');
    controlPlane = started.controlPlane;
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await started?.close();
  }, 30_000);

  it.each([
    [1, 8],
    [3, 10],
  ])(
    'a token of %i use(s) raced by %i enrolments enrols exactly that many devices',
    async (maxUses, racers) => {
      const created = await apiRequest<{ id: string; token: string }>(
        controlPlane.httpUrl,
        'POST',
        '/enrolment-tokens',
        {
          body: { name: `race ${maxUses}`, maxUses },
        },
      );
      expect(created.status).toBe(201);
      const answers = await Promise.all(
        Array.from({ length: racers }, (_, index) =>
          apiRequest<{ deviceId: string } & ApiErrorResponseBody>(controlPlane.httpUrl, 'POST', '/enrol', {
            token: null,
            body: { token: created.body.token, name: `racer ${maxUses}-${index}` },
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([...Array(maxUses).fill(201), ...Array(racers - maxUses).fill(410)]);
      for (const refused of answers.filter((answer) => answer.status === 410)) {
        expect(refused.body.error.message).toBe(
          `enrolment token ${created.body.id} has been used ${maxUses} of ${maxUses} times; ask an operator for a new one`,
        );
      }
      const devices = await apiRequest<{ items: { name: string }[] }>(
        controlPlane.httpUrl,
        'GET',
        '/devices',
      );
      expect(devices.body.items.filter((device) => device.name.startsWith(`racer ${maxUses}-`))).toHaveLength(
        maxUses,
      );
      const tokens = await apiRequest<{ items: { id: string; uses: number; state: string }[] }>(
        controlPlane.httpUrl,
        'GET',
        '/enrolment-tokens',
      );
      expect(tokens.body.items.find((token) => token.id === created.body.id)).toMatchObject({
        uses: maxUses,
        state: 'used-up',
      });
    },
  );
});
