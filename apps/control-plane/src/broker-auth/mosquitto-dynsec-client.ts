import { randomBytes } from 'node:crypto';
import { type MqttAdapter } from '../messaging/mqtt.adapter';

const COMMAND_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${COMMAND_TOPIC}/response`;

/** One command of Mosquitto's dynamic security API (`{ "command": "createClient", ... }`). */
export type DynsecCommand = { command: string } & Record<string, unknown>;

interface DynsecResponse {
  command?: string;
  error?: string;
  correlationData?: string;
}

export class DynsecCommandError extends Error {
  constructor(
    readonly command: string,
    readonly brokerError: string,
  ) {
    super(`Mosquitto dynamic security refused ${command}: ${brokerError}`);
    this.name = 'DynsecCommandError';
  }
}

/**
 * Sends commands to Mosquitto's dynamic security plugin over MQTT and waits for their answers, matched by
 * correlation data. The control plane's MQTT account needs the plugin's admin ACLs (see docs/security.md).
 */
export class MosquittoDynsecClient {
  private readonly pending = new Map<string, { resolve(): void; reject(error: Error): void }>();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly mqtt: MqttAdapter,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Runs `commands` in order; rejects with the first refusal (a `DynsecCommandError`) or on time-out. */
  async run(commands: readonly DynsecCommand[]): Promise<void> {
    await this.ensureSubscribed();
    const outcomes = commands.map((command) => {
      const correlationData = randomBytes(8).toString('hex');
      const settled = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(correlationData);
          reject(
            new Error(
              `Mosquitto dynamic security did not answer ${command.command} within ${this.timeoutMs} ms`,
            ),
          );
        }, this.timeoutMs);
        this.pending.set(correlationData, {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
      });
      return { command: { ...command, correlationData }, settled };
    });
    // Attach handlers now: a later command may be answered (and rejected) before an earlier one is awaited.
    const results = Promise.allSettled(outcomes.map((outcome) => outcome.settled));
    await this.mqtt.publish(
      COMMAND_TOPIC,
      JSON.stringify({ commands: outcomes.map((outcome) => outcome.command) }),
      {
        qos: 1,
      },
    );
    for (const result of await results) if (result.status === 'rejected') throw result.reason;
  }

  private ensureSubscribed(): Promise<void> {
    this.subscribed ??= this.mqtt
      .connect()
      .then(() =>
        this.mqtt.subscribe(RESPONSE_TOPIC, (_topic, payload) => this.onResponse(payload), { shared: false }),
      )
      .catch((error: unknown) => {
        this.subscribed = undefined;
        throw error;
      });
    return this.subscribed;
  }

  private onResponse(payload: Buffer): void {
    let responses: DynsecResponse[];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
    } catch {
      return;
    }
    for (const response of responses) {
      if (response.correlationData === undefined) continue;
      const waiter = this.pending.get(response.correlationData);
      if (!waiter) continue;
      this.pending.delete(response.correlationData);
      if (response.error === undefined) waiter.resolve();
      else waiter.reject(new DynsecCommandError(response.command ?? 'a command', response.error));
    }
  }
}
