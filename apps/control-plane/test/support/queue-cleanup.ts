import { Queue } from 'bullmq';
import { type RunningControlPlane } from '../../src/control-plane';
import { DeviceJobQueue } from '../../src/device-jobs/device-job-queue';
import { EVENT_RETENTION_QUEUE } from '../../src/events/event-retention';
import { RolloutQueue } from '../../src/rollouts/rollout-queue';
import { TELEMETRY_MAINTENANCE_QUEUE } from '../../src/telemetry/telemetry-maintenance';
import { WEBHOOK_DELIVERY_QUEUE, WEBHOOK_DISPATCH_QUEUE } from '../../src/webhooks/webhook-queue';

/** The queues with repeatable jobs (job schedulers), which stay in Redis after the control plane stops. */
const SCHEDULED_QUEUES = [
  TELEMETRY_MAINTENANCE_QUEUE,
  EVENT_RETENTION_QUEUE,
  WEBHOOK_DISPATCH_QUEUE,
  WEBHOOK_DELIVERY_QUEUE,
  DeviceJobQueue.Timeouts,
  RolloutQueue.Engine,
];

/** Deletes the test's scheduled queues (their schedulers and jobs) from Redis; call before closing. */
export async function removeScheduledQueues(
  controlPlane: RunningControlPlane,
  prefix: string,
): Promise<void> {
  for (const name of SCHEDULED_QUEUES) {
    const queue = new Queue(name, { connection: { url: controlPlane.infrastructure.redisUrl }, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}
