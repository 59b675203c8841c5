import { type RunningControlPlane } from '../../src/control-plane';
import { EventDevice } from './event-device';
import { startTestControlPlane, type TestControlPlane } from './test-control-plane';
import { type TestMode, uniqueSuffix, CONTROL_PLANE_START_TIMEOUT_MS } from './test-environment';

/** A control plane started for one describe block, and the event devices its tests connect to it. */
export interface EventFleet {
  readonly controlPlane: RunningControlPlane;
  /** Connects a new device (`cam-<suffix>`) that sends emotion events; it is closed after the block. */
  newDevice(): Promise<EventDevice>;
  /** Runs `cleanup` after the block, once the devices and the control plane are closed (last added first). */
  onCleanup(cleanup: () => Promise<void> | void): void;
}

/**
 * Registers beforeAll/afterAll hooks that start a control plane in `mode` (`overrides` on top of the test
 * configuration) and close it with every device the block connected. Call it at the top of a describe block.
 */
export function useEventFleet(mode: TestMode, overrides: Record<string, string> = {}): EventFleet {
  let started: TestControlPlane | undefined;
  const devices: EventDevice[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    started = await startTestControlPlane(mode, overrides);
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const device of devices) {
      // An external broker keeps the retained ack after the test: clear it (the test Mosquitto has no ACL).
      if (mode === 'external-services')
        await device.client.publishAsync(device.ackTopic, '', { qos: 1, retain: true });
      await device.client.endAsync();
    }
    await started?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const running = (): TestControlPlane => {
    if (!started) throw new Error('the event fleet is used before its beforeAll hook ran');
    return started;
  };
  return {
    get controlPlane() {
      return running().controlPlane;
    },
    async newDevice() {
      const { controlPlane, topicPrefix } = running();
      const device = await EventDevice.connect(controlPlane.httpUrl, topicPrefix, `cam-${uniqueSuffix()}`);
      devices.push(device);
      return device;
    },
    onCleanup(cleanup) {
      cleanups.push(cleanup);
    },
  };
}
