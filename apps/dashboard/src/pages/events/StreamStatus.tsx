import type { EventStreamState } from '../../api/event-stream';
import { StatusBadge } from '../../components/StatusBadge';

export function StreamStatus({ state }: { state: EventStreamState }) {
  switch (state.status) {
    case 'live':
      return <StatusBadge tone="good">live</StatusBadge>;
    case 'connecting':
      return <StatusBadge tone="busy">connecting</StatusBadge>;
    case 'retrying':
      return (
        <span title={state.reason}>
          <StatusBadge tone="warn">{`reconnecting in ${state.inSeconds} s`}</StatusBadge>
        </span>
      );
    case 'refused':
      return (
        <span role="alert">
          <StatusBadge tone="bad">refused</StatusBadge> {state.reason}
        </span>
      );
  }
}
