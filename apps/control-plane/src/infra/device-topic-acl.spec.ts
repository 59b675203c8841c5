import { deviceSubscriptions, MESSAGE_KINDS, TopicScheme } from '@emofleet/protocol';
import { DeviceTopicAcl } from './device-topic-acl';

describe('DeviceTopicAcl', () => {
  const topics = new TopicScheme('acme/v1');
  const acl = new DeviceTopicAcl(topics);

  it('lets a device publish its own device-to-cloud kinds only', () => {
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/birth')).toBe(true);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/state')).toBe(true);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/telemetry')).toBe(true);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/events')).toBe(true);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/jobs/job-7/update')).toBe(true);
  });

  it("refuses another device's topics, cloud-to-device kinds and unknown topics", () => {
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-2/telemetry')).toBe(false);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/desired')).toBe(false);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/events/ack')).toBe(false);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/jobs/job-7/update/response')).toBe(false);
    expect(acl.mayPublish('cam-1', 'acme/v1/devices/cam-1/other')).toBe(false);
    expect(acl.mayPublish('cam-1', 'other/v1/devices/cam-1/telemetry')).toBe(false);
    expect(acl.mayPublish('cam-1', '$SYS/broker/uptime')).toBe(false);
  });

  it("allows exactly the agent's own subscriptions", () => {
    for (const subscription of deviceSubscriptions(topics, 'cam-1')) {
      expect(acl.maySubscribe('cam-1', subscription.topic)).toBe(true);
      expect(acl.maySubscribe('cam-2', subscription.topic)).toBe(false);
    }
    expect(acl.maySubscribe('cam-1', 'acme/v1/devices/cam-1/jobs/job-7/update/response')).toBe(true);
  });

  it('refuses wildcards reaching beyond the device and device-to-cloud kinds', () => {
    expect(acl.maySubscribe('cam-1', 'acme/v1/#')).toBe(false);
    expect(acl.maySubscribe('cam-1', 'acme/v1/devices/+/desired')).toBe(false);
    expect(acl.maySubscribe('cam-1', 'acme/v1/devices/cam-1/#')).toBe(false);
    expect(acl.maySubscribe('cam-1', 'acme/v1/devices/cam-1/telemetry')).toBe(false);
    expect(acl.maySubscribe('cam-1', 'acme/v1/devices/cam-1/jobs/+/update')).toBe(false);
    expect(acl.maySubscribe('cam-1', '#')).toBe(false);
    for (const kind of MESSAGE_KINDS) expect(acl.maySubscribe('cam-1', topics.filterFor(kind))).toBe(false);
  });
});
