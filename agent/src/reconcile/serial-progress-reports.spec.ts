import { SerialProgressReports } from './serial-progress-reports';

/** A send whose reports stay in flight until the test answers them, recording what was sent when. */
function controlledSend() {
  const sent: number[] = [];
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const send = (progress: number) =>
    new Promise<void>((resolve, reject) => {
      sent.push(progress);
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const done = () => (inFlight -= 1);
      pending.push({
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
  const answerNext = async () => {
    const next = pending.shift();
    if (next === undefined) throw new Error('no report in flight to answer');
    next.resolve();
    // Lets the reports' continuations run (the next report starts in a later microtask).
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  };
  return { send, sent, pending, answerNext, mostInFlight: () => mostInFlight };
}

describe('SerialProgressReports', () => {
  it('keeps one report in flight and sends only the latest value offered meanwhile', async () => {
    const channel = controlledSend();
    const reports = new SerialProgressReports(channel.send);
    reports.offer(25);
    reports.offer(50);
    reports.offer(75);
    expect(channel.sent).toEqual([25]);
    await channel.answerNext();
    expect(channel.sent).toEqual([25, 75]);
    const settled = reports.settled();
    await channel.answerNext();
    await settled;
    expect(channel.sent).toEqual([25, 75]);
    expect(channel.mostInFlight()).toBe(1);
  });

  it('sends a value offered after the previous report was answered', async () => {
    const channel = controlledSend();
    const reports = new SerialProgressReports(channel.send);
    reports.offer(1);
    await channel.answerNext();
    await reports.settled();
    reports.offer(2);
    expect(channel.sent).toEqual([1, 2]);
    await channel.answerNext();
    await reports.settled();
  });

  it('stops after a failed report and throws its error from settled()', async () => {
    const channel = controlledSend();
    const reports = new SerialProgressReports(channel.send);
    reports.offer(1);
    reports.offer(2);
    channel.pending.shift()?.reject(new Error('job 7 was cancelled'));
    await expect(reports.settled()).rejects.toThrow('job 7 was cancelled');
    reports.offer(3);
    expect(channel.sent).toEqual([1]);
  });
});
