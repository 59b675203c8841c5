import { DeviceJobStatus } from './device-job';
import { transitionProblem } from './device-job-transitions';

describe('transitionProblem', () => {
  it('lets the device move a pending job on, and report progress repeatedly', () => {
    for (const from of [DeviceJobStatus.Queued, DeviceJobStatus.InProgress]) {
      for (const to of [
        DeviceJobStatus.InProgress,
        DeviceJobStatus.Succeeded,
        DeviceJobStatus.Failed,
        DeviceJobStatus.Rejected,
      ]) {
        expect(transitionProblem(from, to, 'device')).toBeUndefined();
      }
    }
  });

  it('never leaves a terminal status, whoever asks', () => {
    for (const from of [
      DeviceJobStatus.Succeeded,
      DeviceJobStatus.Failed,
      DeviceJobStatus.Rejected,
      DeviceJobStatus.TimedOut,
      DeviceJobStatus.Canceled,
    ]) {
      expect(transitionProblem(from, DeviceJobStatus.InProgress, 'device')).toBe(
        `the job is ${from} already, a terminal status`,
      );
      expect(transitionProblem(from, DeviceJobStatus.Canceled, 'control-plane')).toMatch(/terminal/);
    }
  });

  it('keeps time-outs and cancellations to the control plane and QUEUED to creation', () => {
    expect(transitionProblem(DeviceJobStatus.InProgress, DeviceJobStatus.Canceled, 'device')).toBe(
      'CANCELED cannot be set by the device',
    );
    expect(
      transitionProblem(DeviceJobStatus.Queued, DeviceJobStatus.TimedOut, 'control-plane'),
    ).toBeUndefined();
    expect(transitionProblem(DeviceJobStatus.InProgress, DeviceJobStatus.Succeeded, 'control-plane')).toBe(
      'SUCCEEDED cannot be set by the control plane',
    );
    expect(transitionProblem(DeviceJobStatus.InProgress, DeviceJobStatus.Queued, 'device')).toBe(
      'QUEUED cannot be set by the device',
    );
  });
});
