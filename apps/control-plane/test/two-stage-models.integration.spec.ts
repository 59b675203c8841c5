/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import * as tar from 'tar-stream';
import { type RunningControlPlane } from '../src/control-plane';
import { startTestControlPlane, type TestControlPlane } from './support/test-control-plane';
import { apiRequest } from './support/api-request';
import { eventually } from './support/eventually';
import { authHeaders, CONTROL_PLANE_START_TIMEOUT_MS } from './support/test-environment';

// A two-stage bundle in miniature: a one-class region detector fed by pad-to-square and a 3-class classifier.
const DETECTOR_CFG =
  '[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\n' +
  'activation=leaky\n[maxpool]\nsize=2\nstride=2\n[convolutional]\nfilters=12\nsize=1\nactivation=linear\n' +
  '[region]\nanchors=2,2,5,5\nclasses=1\nnum=2\nsoftmax=1\n';
const CLASSIFIER_CFG =
  '[net]\nwidth=16\nheight=16\nchannels=3\n[convolutional]\nfilters=4\nsize=4\nstride=2\npadding=1\n' +
  'activation=relu\n[avgpool]\n[connected]\noutput=3\nactivation=linear\n[softmax]\n';
const DESCRIPTION = {
  formatVersion: 1,
  detector: {
    input: { fit: 'pad-to-square', padding: 'bottom-right', mean: [0, 0, 0], scale: 1 / 255 },
    scoreThreshold: 0.5,
    iouThreshold: 0.4,
  },
  classifier: {
    input: { fit: 'pad-to-square', padding: 'centred', mean: [122.782, 117.001, 104.298], scale: 1 / 255 },
  },
  labelMapping: { happy: 'Happiness' },
};

function weightsOf(cfg: string, seed: number): Buffer {
  const network = parseCfg(cfg, 'test.cfg');
  return Buffer.from(serialiseWeights(network, randomWeights(network, seed)));
}

const FILES = {
  cfg: Buffer.from(DETECTOR_CFG),
  weights: weightsOf(DETECTOR_CFG, 1),
  names: Buffer.from('face\n'),
  classifierCfg: Buffer.from(CLASSIFIER_CFG),
  classifierWeights: weightsOf(CLASSIFIER_CFG, 2),
  classifierNames: Buffer.from('neutral\nhappy\nsad\n'),
  bundle: Buffer.from(JSON.stringify(DESCRIPTION)),
};

interface VersionDetail {
  status: string;
  statusReason: string | null;
  classes: number;
  files: Array<{ role: string; sha256: string }>;
  manifests: Array<{ format: string; sha256: string }>;
}

async function tarEntries(archive: Buffer): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries[header.name] = Buffer.concat(chunks).toString('latin1');
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    extract.end(archive);
  });
  return entries;
}

describe('two-stage model versions (classifier + bundle.json)', () => {
  let started: TestControlPlane | undefined;
  let controlPlane: RunningControlPlane;

  beforeAll(async () => {
    started = await startTestControlPlane('external-services');
    controlPlane = started.controlPlane;
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await started?.close();
  }, 30_000);

  const upload = async (model: string, files: Record<string, Buffer | undefined>) => {
    const form = new FormData();
    for (const [field, content] of Object.entries(files)) {
      if (content) form.append(field, new Blob([content]), `${field}.file`);
    }
    const response = await fetch(`${controlPlane.httpUrl}/models/${model}/versions`, {
      method: 'POST',
      headers: authHeaders(),
      body: form,
    });
    return {
      status: response.status,
      body: (await response.json()) as { version: number; error?: { message: string } },
    };
  };

  it('accepts a two-stage bundle, packs its seven files into the signed bundle and reports the classifier labels', async () => {
    const created = await upload('two-stage', FILES);
    expect(created.status).toBe(201);
    const detail = await apiRequest<VersionDetail>(
      controlPlane.httpUrl,
      'GET',
      '/models/two-stage/versions/1',
    );
    expect(detail.body.classes).toBe(3);
    expect(detail.body.files.map((file) => file.role)).toEqual(
      expect.arrayContaining([
        'classifier-cfg',
        'classifier-weights',
        'classifier-names',
        'bundle-description',
      ]),
    );
    const bundle = detail.body.manifests.find((manifest) => manifest.format === 'darknet-bundle');
    const stored = await fetch(`${controlPlane.httpUrl}/artifacts/${bundle?.sha256}`, {
      headers: authHeaders(),
    });
    expect(stored.status).toBe(200);
    const entries = await tarEntries(Buffer.from(await stored.arrayBuffer()));
    expect(Object.keys(entries)).toEqual([
      'model.cfg',
      'model.weights',
      'model.names',
      'bundle.json',
      'classifier.cfg',
      'classifier.weights',
      'classifier.names',
    ]);
    expect(entries['classifier.names']).toBe('neutral\nhappy\nsad\n');
    expect(JSON.parse(entries['bundle.json'] ?? '')).toEqual(DESCRIPTION);
    // The pipeline converts the detector and benchmarks both stages on the native detector.
    const ready = await eventually(
      () => apiRequest<VersionDetail>(controlPlane.httpUrl, 'GET', '/models/two-stage/versions/1'),
      (response) => response.body.status === 'ready' || response.body.status === 'failed',
      { timeoutMs: 120_000, intervalMs: 500, what: 'the version finished the pipeline' },
    );
    expect(ready.body.statusReason).toBeNull();
    expect(ready.body.status).toBe('ready');
  }, 180_000);

  it.each([
    [
      'a classifier without bundle.json',
      { ...FILES, bundle: undefined },
      /bundle: a classifier was uploaded, so a bundle\.json with a "classifier"/,
    ],
    [
      'part of the classifier triple',
      { ...FILES, classifierNames: undefined },
      /classifierNames: missing: a classifier needs classifierCfg, classifierWeights and classifierNames/,
    ],
    [
      'classifier names that do not match its outputs',
      { ...FILES, classifierNames: Buffer.from('happy\nsad\n') },
      /classifierNames\.file: has 2 class names, but classifierCfg\.file has 3 outputs/,
    ],
    [
      'a bundle.json describing a classifier that was not uploaded',
      { cfg: FILES.cfg, weights: FILES.weights, names: FILES.names, bundle: FILES.bundle },
      /describes a classifier, but no classifierCfg, classifierWeights and classifierNames were uploaded/,
    ],
    [
      'a label mapping for a label the classifier lacks',
      { ...FILES, bundle: Buffer.from(JSON.stringify({ ...DESCRIPTION, labelMapping: { angry: 'Anger' } })) },
      /labelMapping renames 'angry', which the model does not have/,
    ],
    [
      'an invalid bundle.json',
      { ...FILES, bundle: Buffer.from('{"formatVersion":1,"detector":{"input":{"fit":"stretch"}}}') },
      /bundle\.file: bundle\.json: detector\.input/,
    ],
    [
      'a detection network as the classifier',
      { ...FILES, classifierCfg: FILES.cfg, classifierWeights: FILES.weights },
      /is not a classifier: its last layer must give one score per class/,
    ],
    [
      'truncated classifier weights',
      {
        ...FILES,
        classifierWeights: FILES.classifierWeights.subarray(0, FILES.classifierWeights.length - 8),
      },
      /classifierWeights\.file: truncated/,
    ],
  ])('refuses %s with 422, naming the file', async (_case, files, message) => {
    const refused = await upload('two-stage-refused', files);
    expect(refused.status).toBe(422);
    expect(refused.body.error?.message).toMatch(message);
  });
});
