import Redis from 'ioredis';
import { connectAsync } from 'mqtt';

const QUIET_MS = 1000;
const PUBLISH_WINDOW = 500;

/**
 * Clears every retained message under `topicPrefix` (births, states, acks the run left on the shared broker,
 * which keeps them on disk). Returns how many were cleared.
 */
export async function clearRetainedMessages(mqttUrl: string, topicPrefix: string): Promise<number> {
  const client = await connectAsync(mqttUrl, {
    clientId: `emofleet-bench-cleanup-${process.pid}`,
    clean: true,
    reconnectPeriod: 0,
  });
  try {
    const retained = new Set<string>();
    let lastArrival = Date.now();
    client.on('message', (topic, payload, packet) => {
      lastArrival = Date.now();
      if (packet.retain && payload.length > 0) retained.add(topic);
    });
    await client.subscribeAsync(`${topicPrefix}/#`, { qos: 0 });
    while (Date.now() - lastArrival < QUIET_MS) await new Promise((resolve) => setTimeout(resolve, 100));
    // In windows of acknowledgements, not one round trip per topic: thousands of devices leave thousands.
    const topics = [...retained];
    for (let from = 0; from < topics.length; from += PUBLISH_WINDOW)
      await Promise.all(
        topics
          .slice(from, from + PUBLISH_WINDOW)
          .map((topic) => client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true })),
      );
    return retained.size;
  } finally {
    await client.endAsync();
  }
}

/** Deletes every Redis key of the run's BullMQ queue prefix (job schedulers survive the control plane). */
export async function deleteQueueKeys(redisUrl: string, queuePrefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
