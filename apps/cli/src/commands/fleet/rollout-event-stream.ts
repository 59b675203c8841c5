import { apiErrorMessage } from '../../api-client';
import { CliError } from '../../cli-error';

/** A rollout transition as `GET /rollouts/events/stream` sends it. */
export interface RolloutEventView {
  id: string;
  rolloutId: string;
  type: 'rollout' | 'phase' | 'device';
  phase: number | null;
  deviceId: string | null;
  from: string | null;
  to: string;
  reason: string | null;
  actor: string;
  at: string;
}

/** The server sends a comment every 15 s; a connection silent for longer than this is dead. */
const STALL_MS = 45_000;
const RECONNECT_DELAY_MS = 1000;
const MAX_RECONNECTS = 10;

/**
 * Follows the rollout's transitions from its first one (`GET /rollouts/events/stream?rollout=<id>`), handing
 * each to `onEvent` until it returns `'stop'`. A dropped or stalled connection is opened again with
 * `Last-Event-ID`, so no event is missed or seen twice; after MAX_RECONNECTS failures in a row it gives up.
 */
export async function followRolloutEvents(
  server: string,
  token: string | undefined,
  rolloutId: string,
  onEvent: (event: RolloutEventView) => 'stop' | 'continue',
): Promise<void> {
  let lastEventId: string | undefined;
  let failures = 0;
  for (;;) {
    const outcome = await readOnce(server, token, rolloutId, lastEventId, (event) => {
      lastEventId = event.id;
      failures = 0;
      return onEvent(event);
    });
    if (outcome.stopped) return;
    failures += 1;
    if (failures > MAX_RECONNECTS)
      throw new CliError(`lost the event stream of rollout ${rolloutId}: ${outcome.problem}`);
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
  }
}

async function readOnce(
  server: string,
  token: string | undefined,
  rolloutId: string,
  lastEventId: string | undefined,
  onEvent: (event: RolloutEventView) => 'stop' | 'continue',
): Promise<{ stopped: true } | { stopped: false; problem: string }> {
  const controller = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => controller.abort(), STALL_MS);
  };
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  try {
    armStallTimer();
    const response = await fetch(
      `${server}/rollouts/events/stream?rollout=${encodeURIComponent(rolloutId)}`,
      { headers, signal: controller.signal },
    );
    if (response.status !== 200) {
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      // A refused request (token, role) does not get better by asking again.
      throw new CliError(
        `following rollout ${rolloutId} failed: ${apiErrorMessage(body) ?? `HTTP ${response.status}`}`,
      );
    }
    if (response.body === null) return { stopped: false, problem: 'the stream has no body' };
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      armStallTimer();
      buffer += decoder.decode(chunk as Uint8Array, { stream: true }).replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice('data:'.length).trimStart())
          .join('\n');
        buffer = buffer.slice(end + 2);
        if (data !== '' && onEvent(JSON.parse(data) as RolloutEventView) === 'stop') return { stopped: true };
      }
    }
    return { stopped: false, problem: 'the control plane closed the stream' };
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (controller.signal.aborted) return { stopped: false, problem: `no data for ${STALL_MS / 1000} s` };
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    return { stopped: false, problem: cause instanceof Error ? cause.message : String(cause) };
  } finally {
    clearTimeout(stallTimer);
    controller.abort();
  }
}
