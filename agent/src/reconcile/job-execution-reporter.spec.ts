import {
  type JobExecution,
  type JobUpdateMessage,
  type JobUpdateResponseMessage,
  PROTOCOL_VERSION,
} from '@emofleet/protocol';
import { type InboundHandler } from '../connection';
import { silentLogger } from '../logger';
import { until } from '../../test/support/wait';
import { type JobChannel, JobExecutionReporter } from './job-execution-reporter';

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
});
