import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DatabaseAdapter } from '../database/database.adapter';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { RedisAdapter } from '../queues/redis.adapter';

const PROBE_TIMEOUT_MS = 2000;

/** One indicator per outside system, each probed with a short time-out. */
@Injectable()
export class ComponentHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redisAdapter: RedisAdapter,
    private readonly mqttAdapter: MqttAdapter,
    private readonly databaseAdapter: DatabaseAdapter,
  ) {}

  redis(): Promise<HealthIndicatorResult> {
    return this.probe('redis', () => this.redisAdapter.ping());
  }

  mqtt(): Promise<HealthIndicatorResult> {
    return this.probe('mqtt', () => {
      if (!this.mqttAdapter.isConnected) throw new Error(`not connected to ${this.mqttAdapter.url}`);
      return Promise.resolve();
    });
  }

  database(): Promise<HealthIndicatorResult> {
    return this.probe('database', () => this.databaseAdapter.ping(), { kind: this.databaseAdapter.kind });
  }

  private async probe(
    key: string,
    check: () => Promise<void>,
    details: Record<string, string> = {},
  ): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)),
            PROBE_TIMEOUT_MS,
          );
        }),
      ]);
      return indicator.up(details);
    } catch (error) {
      return indicator.down({ ...details, message: error instanceof Error ? error.message : String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
