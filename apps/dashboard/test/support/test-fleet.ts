import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseCfg,
  randomWeights,
  replace3x3With1x1,
  serialiseCfg,
  serialiseWeights,
} from '@emofleet/darknet';
import { type RunningSimulation, silentLogger, startSimulation } from '@emofleet/agent';
import { type TestApi, waitFor } from './api-client';

const MODELS = join(__dirname, '../../../../libs/darknet/models');

interface Enrolment {
  deviceId: string;
  secret: string;
  mqttUrl: string;
  topicPrefix: string;
  signingPublicKey: string;
}

export interface SimulatedFleet {
  deviceIds: string[];
  simulation: RunningSimulation;
}

/**
 * Enrols `count` devices per site through the API (each gets its own id and secret, as real devices do) and
 * runs them as simulated agents in this process: real MQTT protocol, model reconcile, spool and telemetry, with
 * synthetic frames and the synthetic detector.
 */
export async function startSimulatedFleet(
  api: TestApi,
  sites: Record<string, number>,
  dataDir: string,
): Promise<SimulatedFleet> {
  const enrolments: Enrolment[] = [];
  for (const [site, count] of Object.entries(sites)) {
    const token = await api.expect<{ token: string }>(201, 'POST', '/enrolment-tokens', {
      name: `e2e ${site}`,
      maxUses: count,
      tags: { site, camera: 'usb' },
    });
    for (let n = 1; n <= count; n += 1) {
      const enrolment = await fetch(`${api.url}/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: token.token, name: `${site}-camera-${n}` }),
      });
      if (enrolment.status !== 201)
        throw new Error(`enrolling ${site}-camera-${n}: ${await enrolment.text()}`);
      enrolments.push((await enrolment.json()) as Enrolment);
    }
  }
  const first = enrolments[0];
  if (first === undefined) throw new Error('no devices to simulate');
  const simulation = await startSimulation({
    count: enrolments.length,
    idPrefix: 'unused',
    secret: 'unused',
    devices: enrolments.map((enrolment) => ({ deviceId: enrolment.deviceId, secret: enrolment.secret })),
    mqttUrl: first.mqttUrl,
    topicPrefix: first.topicPrefix,
    mqttVersion: 4,
    dataDir,
    manifestPublicKey: first.signingPublicKey,
    fps: 4,
    expressionSeconds: 2,
    telemetryIntervalMs: 2000,
    agentVersion: 'e2e',
    logger: silentLogger,
    staggerMs: 20,
  });
  return { deviceIds: enrolments.map((enrolment) => enrolment.deviceId), simulation };
}

interface VersionView {
  version: number;
  status: string;
  statusReason: string | null;
}

/**
 * Uploads the paper's tiny expression network (random weights) as `<name>` v1, and as v2 (parent v1) the same
 * network with its paper layer 13 (a 3x3 convolution of 1024 filters) replaced by 1x1, "retrained" (random
 * weights again: the replacement needs new weights); waits until both are converted and benchmarked.
 */
export async function uploadTinyModel(api: TestApi, name: string): Promise<void> {
  const names = readFileSync(join(MODELS, 'expressions.names'), 'utf8');
  const base = parseCfg(
    readFileSync(join(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8'),
    'yolov2-tiny-expression.cfg',
  );
  const oneByOne = replace3x3With1x1(base, [13]).network;
  const form = (network: typeof base, seed: number, extra: Record<string, string>) => {
    const data = new FormData();
    data.append('cfg', new Blob([serialiseCfg(network)]), 'yolov2-tiny-expression.cfg');
    data.append(
      'weights',
      new Blob([new Uint8Array(serialiseWeights(network, randomWeights(network, seed)))]),
      'tiny.weights',
    );
    data.append('names', new Blob([names]), 'expressions.names');
    for (const [key, value] of Object.entries(extra)) data.append(key, value);
    return data;
  };
  const ready = async (version: number) => {
    const final = await waitFor(
      () => api.expect<VersionView>(200, 'GET', `/models/${name}/versions/${version}`),
      (view) => view.status === 'ready' || view.status === 'failed',
      `${name} v${version} converted and benchmarked`,
      180_000,
      1000,
    );
    if (final.status !== 'ready') throw new Error(`${name} v${version} failed: ${final.statusReason ?? ''}`);
  };
  // A version names its parent once the parent is there (converted), so the two are uploaded in turn.
  await api.upload(`/models/${name}/versions`, form(base, 2026, {}));
  await ready(1);
  await api.upload(`/models/${name}/versions`, form(oneByOne, 2027, { parentVersion: '1' }));
  await ready(2);
}
