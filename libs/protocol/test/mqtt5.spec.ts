import {
  buildPublication,
  controlPlaneSubscriptions,
  deviceSubscriptions,
  publishPropertiesFor,
  retainedClearPublication,
  sharedSubscriptionTopic,
  subscriptionTopicFor,
  TopicScheme,
} from '../src';
import { DEVICE_ID, JOB_ID, VALID_MESSAGES } from './fixtures';

const topics = new TopicScheme();

describe('MQTT 5 helpers', () => {
  it('builds shared subscription topics and refuses bad group names', () => {
    expect(sharedSubscriptionTopic('control-plane', 'a/+/b')).toBe('$share/control-plane/a/+/b');
    expect(() => sharedSubscriptionTopic('a/b', 'x')).toThrow('contains "/"');
    expect(() => sharedSubscriptionTopic('', 'x')).toThrow('is empty');
  });

  it('shares only shareable kinds, and only on MQTT 5', () => {
    const filter = topics.filterFor('telemetry');
    expect(subscriptionTopicFor('telemetry', filter, { protocolVersion: 5, shareGroup: 'cp' })).toBe(
      `$share/cp/${filter}`,
    );
    expect(subscriptionTopicFor('telemetry', filter, { protocolVersion: 4, shareGroup: 'cp' })).toBe(filter);
    expect(subscriptionTopicFor('telemetry', filter, { protocolVersion: 5 })).toBe(filter);
    const birth = topics.filterFor('birth');
    expect(subscriptionTopicFor('birth', birth, { protocolVersion: 5, shareGroup: 'cp' })).toBe(birth);
  });

  it('sets message expiry only on MQTT 5 and only for kinds that expire', () => {
    expect(publishPropertiesFor('telemetry', 5)).toEqual({ messageExpiryInterval: 60 });
    expect(publishPropertiesFor('telemetry', 4)).toEqual({});
    expect(publishPropertiesFor('events', 5)).toEqual({});
  });

  it('lists the control plane subscriptions: device-to-cloud kinds for every device', () => {
    expect(controlPlaneSubscriptions(topics, { protocolVersion: 5, shareGroup: 'cp' })).toEqual([
      { kind: 'birth', topic: 'emofleet/v1/devices/+/birth', qos: 1 },
      { kind: 'state', topic: 'emofleet/v1/devices/+/state', qos: 1 },
      { kind: 'job-update', topic: '$share/cp/emofleet/v1/devices/+/jobs/+/update', qos: 1 },
      { kind: 'telemetry', topic: '$share/cp/emofleet/v1/devices/+/telemetry', qos: 0 },
      { kind: 'events', topic: '$share/cp/emofleet/v1/devices/+/events', qos: 1 },
    ]);
  });

  it("lists a device's subscriptions: its cloud-to-device kinds and its own state", () => {
    expect(deviceSubscriptions(topics, DEVICE_ID).map((s) => s.topic)).toEqual([
      `emofleet/v1/devices/${DEVICE_ID}/state`,
      `emofleet/v1/devices/${DEVICE_ID}/desired`,
      `emofleet/v1/devices/${DEVICE_ID}/jobs/notify-next`,
      `emofleet/v1/devices/${DEVICE_ID}/jobs/+/update/response`,
      `emofleet/v1/devices/${DEVICE_ID}/events/ack`,
    ]);
  });
});

describe('buildPublication', () => {
  it('addresses the message by its device and job id and applies the kind delivery options', () => {
    const publication = buildPublication(topics, 'job-update', VALID_MESSAGES['job-update'], 5);
    expect(publication).toMatchObject({
      topic: `emofleet/v1/devices/${DEVICE_ID}/jobs/${JOB_ID}/update`,
      qos: 1,
      retain: false,
      properties: {},
    });
    expect(JSON.parse(publication.payload.toString())).toEqual(VALID_MESSAGES['job-update']);
    expect(buildPublication(topics, 'state', VALID_MESSAGES.state, 4)).toMatchObject({
      qos: 1,
      retain: true,
    });
    expect(buildPublication(topics, 'telemetry', VALID_MESSAGES.telemetry, 5)).toMatchObject({
      qos: 0,
      retain: false,
      properties: { messageExpiryInterval: 60 },
    });
  });

  it('clears a retained topic with an empty retained payload', () => {
    expect(retainedClearPublication('t/x')).toEqual({
      topic: 't/x',
      payload: Buffer.alloc(0),
      qos: 1,
      retain: true,
      properties: {},
    });
  });
});
