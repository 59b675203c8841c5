import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelBundleDescriptionError } from '@emofleet/protocol';
import { silentLogger } from '../logger';
import { SlotStore } from '../slots';
import { readBundleContents } from './bundle-contents';
import { BundleError, packModelBundle, unpackModelBundle } from './model-bundle';
import { preinstallModel } from './preinstalled-model';

const TWO_STAGE_DESCRIPTION = {
  formatVersion: 1,
  detector: {
    input: { fit: 'pad-to-square', padding: 'bottom-right', mean: [0, 0, 0], scale: 1 / 255 },
    scoreThreshold: 0.5,
    iouThreshold: 0.4,
  },
  classifier: {
    input: { fit: 'pad-to-square', padding: 'centred', mean: [122.782, 117.001, 104.298], scale: 1 / 255 },
  },
  labelMapping: { happy: 'Happiness', sad: 'Sadness' },
};

function bundleDirectory(files: Record<string, string>): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-bundle-'));
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(directory, name), content);
  return directory;
}

const DETECTOR_FILES = { 'model.cfg': '[net]\n', 'model.weights': 'w', 'model.names': 'face\n' };
const CLASSIFIER_FILES = {
  'classifier.cfg': '[net]\n',
  'classifier.weights': 'w',
  'classifier.names': 'neutral\nhappy\nsad\nfearful\n',
};

describe('bundle contents', () => {
  it('reads a two-stage bundle: reported labels are the classifier labels, mapped, the others kept', async () => {
    const directory = bundleDirectory({
      ...DETECTOR_FILES,
      ...CLASSIFIER_FILES,
      'bundle.json': JSON.stringify(TWO_STAGE_DESCRIPTION),
    });
    const contents = await readBundleContents(directory);
    expect(contents.detector.labels).toEqual(['face']);
    expect(contents.classifier?.labels).toEqual(['neutral', 'happy', 'sad', 'fearful']);
    expect(contents.classifier?.input.padding).toBe('centred');
    expect(contents.reportedLabels).toEqual(['neutral', 'Happiness', 'Sadness', 'fearful']);
    expect(contents.description.detector.iouThreshold).toBe(0.4);
  });

  it('reads a bundle without bundle.json as a letterboxed single-stage detector', async () => {
    const contents = await readBundleContents(
      bundleDirectory({ ...DETECTOR_FILES, 'model.names': 'Happiness\nSadness\n' }),
    );
    expect(contents.description.detector.input).toEqual({ fit: 'letterbox' });
    expect(contents.classifier).toBeUndefined();
    expect(contents.reportedLabels).toEqual(['Happiness', 'Sadness']);
  });

  it.each([
    [
      'classifier files without a classifier in bundle.json',
      { ...DETECTOR_FILES, ...CLASSIFIER_FILES },
      /classifier\.cfg is there but bundle\.json describes no classifier/,
    ],
    [
      'a classifier in bundle.json without its files',
      { ...DETECTOR_FILES, 'bundle.json': JSON.stringify(TWO_STAGE_DESCRIPTION) },
      /describes a classifier but the bundle has no classifier\.cfg/,
    ],
    [
      'a mapping for labels the model lacks',
      {
        ...DETECTOR_FILES,
        'bundle.json': JSON.stringify({ ...TWO_STAGE_DESCRIPTION, classifier: undefined }),
      },
      /labelMapping renames 'happy', 'sad', which the model does not have \(labels: face\)/,
    ],
    [
      'an invalid bundle.json',
      { ...DETECTOR_FILES, 'bundle.json': '{"formatVersion":1}' },
      /bundle\.json: detector: /,
    ],
  ])('refuses %s', async (_case, files, message) => {
    const contents = readBundleContents(bundleDirectory(files));
    await expect(contents).rejects.toThrow(ModelBundleDescriptionError);
    await expect(readBundleContents(bundleDirectory(files))).rejects.toThrow(message);
  });
});

describe('two-stage bundle archives', () => {
  function archiveOf(files: Record<string, string>): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-archive-')), 'model.tar');
    fs.writeFileSync(file, packModelBundle(files));
    return file;
  }

  it('unpacks bundle.json and the classifier triple', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-unpacked-'));
    const written = unpackModelBundle(
      archiveOf({ ...DETECTOR_FILES, ...CLASSIFIER_FILES, 'bundle.json': '{}' }),
      directory,
    );
    expect(written.sort()).toEqual(
      [
        'bundle.json',
        'classifier.cfg',
        'classifier.names',
        'classifier.weights',
        'model.cfg',
        'model.names',
        'model.weights',
      ].sort(),
    );
  });

  it('refuses part of the classifier triple', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-unpacked-'));
    const archive = archiveOf({ ...DETECTOR_FILES, 'classifier.cfg': '[net]\n' });
    expect(() => unpackModelBundle(archive, directory)).toThrow(BundleError);
    expect(() => unpackModelBundle(archive, directory)).toThrow(
      'the bundle has classifier.cfg but no classifier.weights, classifier.names',
    );
  });

  it('preinstalls a local bundle into slot a once, as the running model of a device without one', () => {
    const slots = new SlotStore(fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-slots-')));
    const archive = archiveOf({ ...DETECTOR_FILES, ...CLASSIFIER_FILES });
    const model = { archive, modelId: 'faceapi-expression', version: '1' };
    expect(preinstallModel(slots, model, silentLogger)).toBe(true);
    const current = slots.readPointer().current;
    expect(current).toMatchObject({
      modelId: 'faceapi-expression',
      version: '1',
      format: 'darknet-bundle',
      slot: 'a',
      sizeBytes: fs.statSync(archive).size,
    });
    expect(current !== null && slots.isInstalled(current)).toBe(true);
    expect(fs.readFileSync(path.join(slots.slotDirectory('a'), 'classifier.names'), 'utf8')).toBe(
      CLASSIFIER_FILES['classifier.names'],
    );
    // A device that already runs a model (e.g. one the control plane assigned later) keeps it.
    expect(preinstallModel(slots, { ...model, version: '2' }, silentLogger)).toBe(false);
    expect(slots.readPointer().current?.version).toBe('1');
  });
});
