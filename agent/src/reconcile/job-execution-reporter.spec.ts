import {
  type JobExecution,
  type JobUpdateMessage,
  type JobUpdateResponseMessage,
  PROTOCOL_VERSION,
} from '@emofleet/protocol';
import { type InboundHandler } from '../connection';
import { silentLogger } from '../logger';
import { until } from '../../test/support/wait';
import { type JobChannel, JobExecutionReporter, JobReportingStopped } from './job-execution-reporter';

/** The control plane's side of one job, answered by hand: what the device published, and answers to send. */
class JobChannelDouble implements JobChannel {
  readonly published: JobUpdateMessage[] = [];
  private handler: InboundHandler<'job-update-response'> | undefined;

  publish(_kind: 'job-update', message: JobUpdateMessage): Promise<void> {
    this.published.push(message);
    return Promise.resolve();
  }

  onMessage(_kind: 'job-update-response', handler: InboundHandler<'job-update-response'>): () => void {
    this.handler = handler;
    return () => (this.handler = undefined);
  }

  answer(response: Omit<JobUpdateResponseMessage, 'v' | 'deviceId' | 'jobId' | 'timestamp'>): void {
    const message: JobUpdateResponseMessage = {
      v: PROTOCOL_VERSION,
      deviceId: 'jetson-1',
      jobId: 'job-1',
      timestamp: Date.now(),
      ...response,
    };
    void this.handler?.({ kind: 'job-update-response', message, jobId: 'job-1', retained: false });
  }
}

const execution: JobExecution = {
  jobId: 'job-1',
  status: 'IN_PROGRESS',
  versionNumber: 4,
  queuedAt: 0,
  document: { operation: 'apply-desired-state', parameters: { desiredVersion: 1 } },
};

describe('JobExecutionReporter', () => {
  it('does not take a late acceptance of an update it gave up on for the answer to the next one', async () => {
    const channel = new JobChannelDouble();
    const reporter = new JobExecutionReporter(channel, 'jetson-1', execution, silentLogger, 30, 2);
    // The control plane is too slow: the health-check update gets no answer within its attempts.
    await reporter.report('IN_PROGRESS', { step: 'HEALTH_CHECK' });
    expect(channel.published.map((update) => update.expectedVersion)).toEqual([4, 4]);

    let done = false;
    const succeeded = reporter.report('SUCCEEDED', { step: 'RUNNING' }).then(() => (done = true));
    await until(() => channel.published.length === 3, 'the SUCCEEDED update published');
    // Now the acceptance of the health-check update arrives: version 5, IN_PROGRESS. Not this update's answer.
    channel.answer({ accepted: true, status: 'IN_PROGRESS', versionNumber: 5 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(done).toBe(false);
    // Its own answer: a version conflict (the job is at 5), so it is sent again at version 5, then accepted.
    channel.answer({
      accepted: false,
      status: 'IN_PROGRESS',
      versionNumber: 5,
      rejection: 'version-conflict',
    });
    await until(() => channel.published.length === 4, 'the SUCCEEDED update sent again');
    expect(channel.published[3]).toMatchObject({ status: 'SUCCEEDED', expectedVersion: 5 });
    channel.answer({ accepted: true, status: 'SUCCEEDED', versionNumber: 6 });
    await succeeded;
    expect(done).toBe(true);
    reporter.close();
  });

  it('gives up a progress report after its attempts but sends a final status until it is answered', async () => {
    const channel = new JobChannelDouble();
    const reporter = new JobExecutionReporter(channel, 'jetson-1', execution, silentLogger, 20, 2);
    await reporter.report('IN_PROGRESS', { step: 'DOWNLOADING' });
    expect(channel.published).toHaveLength(2);

    let done = false;
    const succeeded = reporter.report('SUCCEEDED', { step: 'RUNNING' }).then(() => (done = true));
    // Well past its two attempts, the outcome is still being sent.
    await until(() => channel.published.length >= 2 + 6, 'the SUCCEEDED update sent again and again');
    expect(done).toBe(false);
    expect(channel.published.slice(2).every((update) => update.status === 'SUCCEEDED')).toBe(true);
    channel.answer({ accepted: true, status: 'SUCCEEDED', versionNumber: 5 });
    await succeeded;
    reporter.close();
  });

  it('stops sending a final status when closed (the agent stopping), with an error saying so', async () => {
    const channel = new JobChannelDouble();
    const reporter = new JobExecutionReporter(channel, 'jetson-1', execution, silentLogger, 1_000, 2);
    const failed = reporter.report('FAILED', { reason: 'no camera' });
    await until(() => channel.published.length === 1, 'the FAILED update published');
    reporter.close();
    await expect(failed).rejects.toBeInstanceOf(JobReportingStopped);
    expect(channel.published).toHaveLength(1);
  });
});
