import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { deviceAclPatterns, TopicScheme } from '../src';

describe('deviceAclPatterns', () => {
  it('lets a device write its device-to-cloud topics and read its cloud-to-device topics and own state', () => {
    expect(deviceAclPatterns(new TopicScheme('site/v1'))).toEqual([
      'pattern write site/v1/devices/%u/birth',
      'pattern write site/v1/devices/%u/state',
      'pattern write site/v1/devices/%u/jobs/+/update',
      'pattern write site/v1/devices/%u/telemetry',
      'pattern write site/v1/devices/%u/events',
      'pattern read site/v1/devices/%u/state',
      'pattern read site/v1/devices/%u/desired',
      'pattern read site/v1/devices/%u/jobs/notify-next',
      'pattern read site/v1/devices/%u/jobs/+/update/response',
      'pattern read site/v1/devices/%u/events/ack',
    ]);
  });

  it('matches the pattern lines of the shipped infra/mosquitto/acl', () => {
    const acl = readFileSync(path.resolve(__dirname, '../../../infra/mosquitto/acl'), 'utf8');
    const shipped = acl.split('\n').filter((line) => line.startsWith('pattern '));
    expect([...shipped].sort()).toEqual(deviceAclPatterns(new TopicScheme()).sort());
  });
});
