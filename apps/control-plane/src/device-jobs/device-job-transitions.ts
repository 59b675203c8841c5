import { DeviceJobStatus, isTerminalJobStatus } from './device-job';

/** Who changes a job's status: the device reports progress and outcomes, the control plane ends jobs. */
export type JobStatusAuthor = 'device' | 'control-plane';

const SET_BY: Readonly<Record<DeviceJobStatus, readonly JobStatusAuthor[]>> = {
  [DeviceJobStatus.Queued]: [],
  [DeviceJobStatus.InProgress]: ['device'],
  [DeviceJobStatus.Succeeded]: ['device'],
  [DeviceJobStatus.Failed]: ['device'],
  [DeviceJobStatus.Rejected]: ['device'],
  [DeviceJobStatus.TimedOut]: ['control-plane'],
  [DeviceJobStatus.Canceled]: ['control-plane'],
};

/**
 * Why `author` may not move a job from `from` to `to`, or undefined when it may. A terminal status is never left;
 * QUEUED is only the initial status; TIMED_OUT and CANCELED are the control plane's, the rest the device's.
 * IN_PROGRESS → IN_PROGRESS is a progress report.
 */
export function transitionProblem(
  from: DeviceJobStatus,
  to: DeviceJobStatus,
  author: JobStatusAuthor,
): string | undefined {
  if (isTerminalJobStatus(from)) return `the job is ${from} already, a terminal status`;
  if (!SET_BY[to].includes(author))
    return `${to} cannot be set by the ${author === 'device' ? 'device' : 'control plane'}`;
  return undefined;
}
