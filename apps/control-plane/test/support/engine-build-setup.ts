import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { type AppConfig } from '../../src/config/app-config';
import { type RunningControlPlane, startControlPlane } from '../../src/control-plane';
import { type ApiResponse, apiRequest } from './api-request';
import { type BuilderAgent, type BuilderAgentOptions, startBuilderAgent } from './builder-agent';
import { eventually } from './eventually';
import { createTestDatabase, testAdminToken, testConfig } from './test-environment';

const MODELS = join(__dirname, '../../../../libs/darknet/models');
const CFG = readFileSync(join(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8');
/** The network whose versions the engine-build specs upload (yolov2-tiny-expression). */
export const ENGINE_BUILD_NETWORK = parseCfg(CFG, 'yolov2-tiny-expression.cfg');

export interface EngineBuildSetupOptions {
  /** The model whose version 1 is uploaded and made ready. */
  model: string;
  /** The seed of that version's random weights. */
  weightsSeed: number;
  /** ENGINE_BUILD_* settings, of this control plane and of the further processes started with `environment`. */
  engineBuild: Record<string, string>;
}

/**
 * What the engine-build specs start from: a control plane on real PostgreSQL (a database of its own), Redis and
 * Mosquitto, a version of `model` taken through upload → convert → benchmark to ready, and the builder agents a
 * spec starts. `close` stops the builders, closes the control plane, then runs the cleanups in reverse order.
 */
export interface EngineBuildSetup {
  /** The control plane running now (see `restart`). */
  readonly controlPlane: RunningControlPlane;
  readonly config: AppConfig;
  /** What further processes of this control plane share: the database, queues, topics and artifact store. */
  readonly environment: Record<string, string>;
  /** The ready version's id. */
  readonly versionId: string;
  /** Calls the running control plane's API as the test admin. */
  api<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Closes the running control plane and starts one with `config` (by default the same configuration). */
  restart(config?: AppConfig): Promise<RunningControlPlane>;
  /** Runs the real agent as a builder claiming `deviceClass` (support/builder-agent); stopped by `close`. */
  startBuilder(name: string, deviceClass: string, options?: BuilderAgentOptions): Promise<BuilderAgent>;
  /** Runs `cleanup` on `close`, after the control plane closed (the latest first). */
  onClose(cleanup: () => Promise<void> | void): void;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Uploads version 1 of `model` (yolov2-tiny-expression, weights from `seed`) and waits until it is ready. */
async function uploadReadyVersion(httpUrl: string, model: string, seed: number): Promise<string> {
  const weights = Buffer.from(
    serialiseWeights(ENGINE_BUILD_NETWORK, randomWeights(ENGINE_BUILD_NETWORK, seed)),
  );
  const form = new FormData();
  form.append('cfg', new Blob([CFG]), 'yolov2-tiny-expression.cfg');
  form.append('weights', new Blob([weights]), 'tiny.weights');
  form.append('names', new Blob([readFileSync(join(MODELS, 'expressions.names'))]), 'expressions.names');
  const response = await fetch(`${httpUrl}/models/${model}/versions`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${testAdminToken}` },
  });
  const created = (await response.json()) as { id: string };
  if (response.status !== 201)
    throw new Error(`upload of ${model} answered ${response.status}, not 201: ${JSON.stringify(created)}`);
  const version = await eventually(
    () =>
      apiRequest<{ status: string; statusReason: string | null }>(
        httpUrl,
        'GET',
        `/models/${model}/versions/1`,
      ),
    (version) => version.body.status === 'ready' || version.body.status === 'failed',
    { timeoutMs: 360_000, intervalMs: 500, what: 'model version ready (convert → benchmark)' },
  );
  if (version.body.status !== 'ready' || version.body.statusReason !== null)
    throw new Error(`${model}@1 did not become ready: ${JSON.stringify(version.body)}`);
  return created.id;
}

export async function startEngineBuildSetup(options: EngineBuildSetupOptions): Promise<EngineBuildSetup> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const builders: BuilderAgent[] = [];
  let controlPlane: RunningControlPlane | undefined;
  const running = (): RunningControlPlane => {
    if (!controlPlane) throw new Error('the engine-build setup has no control plane running');
    return controlPlane;
  };
  const close = async (): Promise<void> => {
    for (const builder of builders.splice(0)) builder.stop();
    const closing = controlPlane;
    controlPlane = undefined;
    await closing?.close();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('external-services', {
      DATABASE_URL: database.url,
      PORT: String(await freePort()),
      ...options.engineBuild,
    });
    cleanups.push(test.cleanup);
    const config = test.config;
    const environment = {
      DATABASE_URL: database.url,
      QUEUE_PREFIX: config.queuePrefix,
      MQTT_TOPIC_PREFIX: test.topicPrefix,
      EMOFLEET_DATA_DIR: test.dataDir,
      ...options.engineBuild,
    };
    controlPlane = await startControlPlane(config, () => undefined);
    const versionId = await uploadReadyVersion(controlPlane.httpUrl, options.model, options.weightsSeed);
    return {
      get controlPlane() {
        return running();
      },
      config,
      environment,
      versionId,
      api: <T>(method: string, path: string, body?: unknown) =>
        apiRequest<T>(running().httpUrl, method, path, body === undefined ? {} : { body }),
      async restart(next = config) {
        await running().close();
        controlPlane = undefined;
        controlPlane = await startControlPlane(next, () => undefined);
        return controlPlane;
      },
      async startBuilder(name, deviceClass, builderOptions) {
        const builder = await startBuilderAgent(running().httpUrl, name, deviceClass, builderOptions);
        builders.push(builder);
        return builder;
      },
      onClose: (cleanup) => void cleanups.push(cleanup),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
