import { type AppConfig, runsApi } from '../config/app-config';
import { openDatabase, type DatabaseConnection } from '../database/database-connection';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker';
import { type BrokerAccount } from './embedded-broker-access';
import { resolveRedis, type ResolvedRedis } from './embedded-redis';
import { readTlsMaterial, type TlsMaterial } from './tls-material';

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
  /** The control plane's MQTT account on the embedded broker; external brokers take it from MQTT_URL. */
  mqttAccount: BrokerAccount | undefined;
  /** Certificate, key and CA for https and mqtts, when TLS_CERT_FILE/TLS_KEY_FILE are set. */
  tls: TlsMaterial | undefined;
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
    const tls = config.tls === undefined ? undefined : await readTlsMaterial(config.tls);
    const redis: ResolvedRedis = await resolveRedis(config.redisUrl, log);
    stops.push(() => redis.stop());
    log(`redis: ${redactUrl(redis.url)} (${redis.source})`);

    let embeddedBroker: EmbeddedBroker | undefined;
    let mqttUrl = config.mqtt.url;
    if (!mqttUrl) {
      if (!runsApi(config.role)) throw new Error('MQTT_URL is required when the api role runs elsewhere');
      embeddedBroker = await startEmbeddedBroker(
        {
          preferredPort: config.mqtt.embeddedPort,
          host: config.http.host,
          topicPrefix: config.mqtt.topicPrefix,
          tls,
        },
        log,
      );
      const broker = embeddedBroker;
      stops.push(() => broker.close());
      mqttUrl = embeddedBroker.url;
      log(`mqtt: embedded broker on ${mqttUrl}`);
    } else {
      log(`mqtt: ${redactUrl(mqttUrl)}`);
    }

    const database = await openDatabase(config.databaseUrl, config.dataDir, config.databaseTimeouts);
    stops.push(() => database.close());
    log(`database: ${database.description} (migrations applied)`);

    return {
      database,
      redisUrl: redis.url,
      mqttUrl,
      embeddedBroker,
      mqttAccount: embeddedBroker?.controlPlaneAccount,
      tls,
      stop: stopAll,
    };
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
