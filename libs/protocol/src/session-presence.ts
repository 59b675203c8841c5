import { type StateMessage } from './schemas/state';

/** What a receiver knows about a device's current broker session. */
export interface KnownSession {
  readonly bdSeq: number;
  readonly online: boolean;
}

/**
 * The presence rule every receiver of `state` messages applies, given what it knew before (undefined for a
 * device never seen). Returns the new knowledge, or `undefined` when the message is stale and must be ignored.
 *
 * - `online` always applies: only a live session can publish it, so it describes the newest session even when
 *   its bdSeq is lower than a previous one (a device that lost its data directory and has a clock behind).
 * - `offline` applies when its bdSeq is at least the known one: equal is the current session ending; greater is a
 *   newer session whose `online` the receiver missed. A lower bdSeq is a stale last will of an older session
 *   that reached the broker late; ignoring it keeps a newer session online.
 */
export function nextSessionPresence(
  known: KnownSession | undefined,
  state: Pick<StateMessage, 'state' | 'bdSeq'>,
): KnownSession | undefined {
  if (state.state === 'online') return { bdSeq: state.bdSeq, online: true };
  if (known !== undefined && state.bdSeq < known.bdSeq) return undefined;
  return { bdSeq: state.bdSeq, online: false };
}
