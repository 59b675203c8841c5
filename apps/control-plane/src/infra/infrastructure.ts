import { type AppConfig, runsApi } from '../config/app-config';
import { openDatabase, type DatabaseConnection } from '../database/database-connection';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker';
import { resolveRedis, type ResolvedRedis } from './embedded-redis';

export const INFRASTRUCTURE = Symbol('INFRASTRUCTURE');

/**
 * The outside systems this process uses, resolved before the Nest application starts: configured URLs
 * where given, embedded defaults otherwise (PGlite, the aedes broker, a Redis found or started).
 */
export interface Infrastructure {
  database: DatabaseConnection;
  redisUrl: string;
  mqttUrl: string;
  embeddedBroker: EmbeddedBroker | undefined;
  /** Closes what this process opened or started, in reverse order. */
  stop(): Promise<void>;
}

export async function startInfrastructure(
  config: AppConfig,
  log: (line: string) => void,
): Promise<Infrastructure> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const redis: ResolvedRedis = await resolveRedis(config.redisUrl, log);
    stops.push(() => redis.stop());
    log(`redis: ${redactUrl(redis.url)} (${redis.source})`);

    let embeddedBroker: EmbeddedBroker | undefined;
    let mqttUrl = config.mqtt.url;
    if (!mqttUrl) {
      if (!runsApi(config.role)) throw new Error('MQTT_URL is required when the api role runs elsewhere');
      embeddedBroker = await startEmbeddedBroker(config.mqtt.embeddedPort, config.http.host, log);
      const broker = embeddedBroker;
      stops.push(() => broker.close());
      mqttUrl = embeddedBroker.url;
      log(`mqtt: embedded broker on ${mqttUrl}`);
    } else {
      log(`mqtt: ${redactUrl(mqttUrl)}`);
    }

    const database = await openDatabase(config.databaseUrl, config.dataDir);
    stops.push(() => database.close());
    log(`database: ${database.description} (migrations applied)`);

    return { database, redisUrl: redis.url, mqttUrl, embeddedBroker, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function redactUrl(value: string): string {
  const url = new URL(value);
  if (url.password) url.password = '***';
  return url.toString();
}
