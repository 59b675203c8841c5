import { InFlightLimit } from './in-flight-limit';
import { loadAppConfig } from '../config/app-config';

describe('InFlightLimit', () => {
  it('takes up to the limit, then serves waiters in arrival order as slots are released', async () => {
    const limit = new InFlightLimit(2);
    expect([limit.tryTake(), limit.tryTake(), limit.tryTake()]).toEqual([true, true, false]);
    const served: string[] = [];
    const first = limit.take().then(() => served.push('first'));
    const second = limit.take().then(() => served.push('second'));
    expect(limit.queued).toBe(2);
    // A newcomer does not overtake the queue even when a slot is passed on.
    limit.release();
    expect(limit.tryTake()).toBe(false);
    await first;
    expect(served).toEqual(['first']);
    limit.release();
    await second;
    expect(served).toEqual(['first', 'second']);
    expect(limit.size).toBe(2);
    expect(limit.highWater).toBe(2);
  });

  it('is idle once every slot is released', async () => {
    const limit = new InFlightLimit(3);
    await limit.idle();
    limit.tryTake();
    limit.tryTake();
    let idle = false;
    const waiting = limit.idle().then(() => (idle = true));
    limit.release();
    await Promise.resolve();
    expect(idle).toBe(false);
    limit.release();
    await waiting;
    expect(idle).toBe(true);
  });

  it('refuses a limit below one and a release without a slot', () => {
    expect(() => new InFlightLimit(0)).toThrow(RangeError);
    expect(() => new InFlightLimit(1.5)).toThrow(RangeError);
    expect(() => new InFlightLimit(1).release()).toThrow(/without a slot/);
  });
});

describe('MQTT_MAX_IN_FLIGHT', () => {
  it('defaults to 1000 and takes whole numbers from 1 to 100,000', () => {
    expect(loadAppConfig({}).mqtt.maxInFlight).toBe(1000);
    expect(loadAppConfig({ MQTT_MAX_IN_FLIGHT: '64' }).mqtt.maxInFlight).toBe(64);
    for (const bad of ['0', '2.5', '100001', 'many'])
      expect(() => loadAppConfig({ MQTT_MAX_IN_FLIGHT: bad })).toThrow(/MQTT_MAX_IN_FLIGHT/);
  });
});
