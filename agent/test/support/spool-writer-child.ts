// Child process for the kill -9 test: appends events to a spool as fast as it can and prints each seq once
// `append` has returned (synced), and the acknowledgements it applies, until it is killed.
import { silentLogger } from '../../src/logger';
import { EventSpool } from '../../src/spool';
import { sampleEvent } from './sample-events';

const directory = process.argv[2] as string;
const spool = EventSpool.open({
  directory,
  maxBytes: 64 * 1024 * 1024,
  segmentBytes: 8192,
  fsync: { mode: 'every-append' },
  logger: silentLogger,
});
process.stdout.write('ready\n');
for (let n = 0; ; n += 1) {
  const { seq } = spool.append(sampleEvent(n));
  process.stdout.write(`appended ${seq}\n`);
  if (seq % 97 === 0) {
    // Printed first: a kill between the two must not leave the parent believing less was acknowledged (it
    // would then look for acknowledged, deleted events).
    process.stdout.write(`acknowledged ${seq - 40}\n`);
    spool.acknowledge(seq - 40);
  }
}
