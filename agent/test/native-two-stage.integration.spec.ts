import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { silentLogger } from '../src/logger';
import { nativeModelLoader, packModelBundle, unpackModelBundle } from '../src/reconcile';
import { startSimulation, type RunningSimulation } from '../src/simulator';
import { decodeImageFile } from '../src/sources';
import { BrokerObserver, LOCAL_MOSQUITTO_URL, uniqueTopicPrefix } from './support/broker-observer';
import { until } from './support/wait';

jest.setTimeout(120_000);

// A two-stage bundle in miniature with seeded random weights: a one-class region detector fed by pad-to-square,
// and a 3-class classifier (depthwise + shortcut + avgpool + connected + softmax) on each box.
const DETECTOR_CFG =
  '[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\n' +
  'activation=leaky\n[maxpool]\nsize=2\nstride=2\n[convolutional]\nfilters=12\nsize=1\nactivation=linear\n' +
  '[region]\nanchors=2,2,5,5\nclasses=1\nnum=2\nsoftmax=1\n';
const CLASSIFIER_CFG =
  '[net]\nwidth=16\nheight=16\nchannels=3\n[convolutional]\nfilters=4\nsize=4\nstride=2\npadding=1\n' +
  'activation=relu\n[convolutional]\nfilters=4\nsize=3\npad=1\ngroups=4\nactivation=linear\n[convolutional]\n' +
  'filters=4\nsize=1\nactivation=linear\n[shortcut]\nfrom=-3\nactivation=relu\n[avgpool]\n[connected]\n' +
  'output=3\nactivation=linear\n[softmax]\n';
const MAPPED_LABELS = ['neutral', 'Happiness', 'sad'];

function weightsOf(cfg: string, seed: number): Buffer {
  const network = parseCfg(cfg, 'test.cfg');
  return Buffer.from(serialiseWeights(network, randomWeights(network, seed)));
}

function twoStageBundle(): Buffer {
  return packModelBundle({
    'model.cfg': DETECTOR_CFG,
    'model.weights': weightsOf(DETECTOR_CFG, 11),
    'model.names': 'face\n',
    'classifier.cfg': CLASSIFIER_CFG,
    'classifier.weights': weightsOf(CLASSIFIER_CFG, 12),
    'classifier.names': 'neutral\nhappy\nsad\n',
    'bundle.json': JSON.stringify({
      formatVersion: 1,
      detector: {
        input: { fit: 'pad-to-square', padding: 'bottom-right', mean: [0, 0, 0], scale: 1 / 255 },
        scoreThreshold: 0.05,
        iouThreshold: 0.4,
      },
      classifier: {
        input: {
          fit: 'pad-to-square',
          padding: 'centred',
          mean: [122.782, 117.001, 104.298],
          scale: 1 / 255,
        },
      },
      labelMapping: { happy: 'Happiness' },
    }),
  });
}

describe('a two-stage bundle on the native detector', () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-two-stage-'));
  const archive = path.join(workDir, 'model.tar');
  const video = path.join(workDir, 'clip.mp4');

  beforeAll(() => {
    fs.writeFileSync(archive, twoStageBundle());
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10'],
      ...['-t', '2', '-c:v', 'mpeg4', '-y', video],
    ]);
  });

  it('reports the classifier labels renamed by the bundle mapping', async () => {
    const bundleDir = path.join(workDir, 'loader');
    fs.mkdirSync(bundleDir);
    unpackModelBundle(archive, bundleDir);
    const detector = await nativeModelLoader({ threads: 1 })(bundleDir, {
      modelId: 'two-stage-test',
      version: '1',
      format: 'darknet-bundle',
      sha256: 'a'.repeat(64),
      sizeBytes: fs.statSync(archive).size,
    });
    try {
      const data = await decodeImageFile(video, 160, 120);
      const found = await detector.detect({
        index: 0,
        timestamp: 0,
        width: 160,
        height: 120,
        format: 'rgb24',
        data,
      });
      expect(found.length).toBeGreaterThan(0);
      for (const detection of found) expect(MAPPED_LABELS).toContain(detection.label);
    } finally {
      await detector.close();
    }
  });

  it('runs in simulated cameras on a looping video, preinstalled, with real frame rates in telemetry', async () => {
    const prefix = uniqueTopicPrefix('two-stage');
    const observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
    const devices = [
      { deviceId: 'demo-cam-1', secret: 'first' },
      { deviceId: 'demo-cam-2', secret: 'second' },
    ];
    let simulation: RunningSimulation | undefined;
    try {
      simulation = await startSimulation({
        count: devices.length,
        idPrefix: 'unused',
        secret: 'unused',
        devices,
        mqttUrl: LOCAL_MOSQUITTO_URL,
        topicPrefix: prefix,
        mqttVersion: 4,
        dataDir: path.join(workDir, 'devices'),
        manifestPublicKey: null,
        fps: 5,
        telemetryIntervalMs: 1000,
        agentVersion: '0.1.0',
        logger: silentLogger,
        camera: { detector: 'native', source: `file:${video}?loop`, frameWidth: 160, frameHeight: 120 },
        minScore: 0,
        preinstalledModel: { archive, modelId: 'two-stage-test', version: '1' },
      });
      const runningModelOf = (deviceId: string) =>
        observer
          .on('birth')
          .filter((message) => message.json?.deviceId === deviceId)
          .map((message) => message.json?.runningModel as { modelId: string; version: string } | null)
          .pop();
      await until(
        () => devices.every(({ deviceId }) => runningModelOf(deviceId)?.modelId === 'two-stage-test'),
        'births with the preinstalled model',
        30_000,
      );
      expect(runningModelOf('demo-cam-2')).toEqual({ modelId: 'two-stage-test', version: '1' });
      const measured = (deviceId: string) =>
        observer
          .on('telemetry')
          .map((message) => message.json)
          .some(
            (json) =>
              json?.deviceId === deviceId &&
              json.modelId === 'two-stage-test' &&
              (json.fps as number) > 0 &&
              json.latencyMs !== null,
          );
      await until(
        () => devices.every(({ deviceId }) => measured(deviceId)),
        'telemetry with frame rates',
        60_000,
      );
    } finally {
      await simulation?.stop();
      await observer.close();
    }
  });
});
