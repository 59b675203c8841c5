import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { importFaceapiModels, type ImportedNetwork } from '../src/import/faceapi/import-faceapi';
import { rawOutputs } from '../src/reference/graph';
import { forwardReference } from '../src/reference/forward';
import { SeededRandom } from '../src/util/seeded-random';
import { runOpenCvForward, type OpenCvCase } from '../src/verify/opencv-runner';
import { FACEAPI_MODEL_DIR } from './support/faceapi-package';
import { openCvAvailable } from './support/opencv-oracle';

const describeWithOpenCv = openCvAvailable() ? describe : describe.skip;

/** Largest |a - b| over two equally long tensors. */
function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a).toHaveLength(b.length);
  return a.reduce((largest, value, i) => Math.max(largest, Math.abs(value - b[i]!)), 0);
}

describeWithOpenCv("converted face-api networks under OpenCV's darknet importer", () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'faceapi-opencv-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('load in OpenCV and match the reference forward pass', () => {
    const imported = importFaceapiModels(FACEAPI_MODEL_DIR, directory);
    const random = new SeededRandom(11);
    const networks: Array<{ imported: ImportedNetwork; input: Float32Array; tolerance: number }> = [
      // RGB / 255 in 0..1; raw logits of magnitude ~10.
      { imported: imported.detector, input: random.fill(3 * 416 * 416, 0, 1), tolerance: 1e-4 },
      // (RGB - mean) / 255 in about -0.5..0.5; probabilities.
      { imported: imported.expression, input: random.fill(3 * 112 * 112, -0.5, 0.5), tolerance: 1e-5 },
    ];
    const cases: OpenCvCase[] = networks.map(({ imported: network, input }) => ({
      format: 'darknet',
      files: [network.files.cfg, network.files.weights],
      inputShape: network.model.network.inputShape,
      inputs: [input],
      outputs: [{ name: 'raw', darknetLayer: rawOutputs(network.model.network)[0]!.layerIndex }],
    }));
    const results = runOpenCvForward(cases);
    networks.forEach(({ imported: network, input, tolerance }, i) => {
      const openCv = results[i]!.get('raw')![0]!;
      const reference = forwardReference(network.model.network, network.model.weights, input).raw[0]!.data;
      expect(maxDifference(openCv, reference)).toBeLessThanOrEqual(tolerance);
    });
  });
});
