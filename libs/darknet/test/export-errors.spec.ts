import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  ExportError,
  exportCaffe,
  exportedModelAt,
  exportOnnx,
  forwardReference,
  parseCfg,
  randomWeights,
  type NetworkWeights,
} from '../src';

const HEAD = '[net]\nwidth=8\nheight=8\nchannels=4\n\n';

function network(body: string) {
  return parseCfg(`${HEAD}${body}`, 'model.cfg');
}

/** Every exporter (and the reference, which shares the structural checks) must refuse with `message`. */
function expectAllRefuse(body: string, message: RegExp): void {
  const net = network(body);
  const weights = randomWeights(net, 1);
  const input = new Float32Array(4 * 8 * 8);
  for (const attempt of [
    () => exportOnnx(net, weights),
    () => exportCaffe(net, weights),
    () => forwardReference(net, weights, input),
  ]) {
    expect(attempt).toThrow(ExportError);
    expect(attempt).toThrow(message);
  }
}

describe('networks the exports cannot represent', () => {
  it('a layer reading a detection head names itself, its cfg line and the head', () => {
    expectAllRefuse(
      '[convolutional]\nfilters=14\nsize=1\nstride=1\nactivation=linear\n\n' +
        '[region]\nanchors=1,1,2,2\nclasses=2\nnum=2\n\n' +
        '[convolutional]\nfilters=2\nsize=1\nstride=1\nactivation=linear\n',
      /^model\.cfg:17: layer 2 \(\[convolutional\]\): reads the output of layer 1 \(\[region\]\)/,
    );
  });

  it('Caffe refuses a maxpool whose windows its ceil rounding cannot reproduce; ONNX exports it', () => {
    // size=3 stride=2 on 8 pixels: darknet has 4 windows, Caffe's ceil rounding 5, and no crop reference fits.
    const net = network('[maxpool]\nsize=3\nstride=2\n');
    const weights = randomWeights(net, 1);
    expect(() => exportCaffe(net, weights)).toThrow(
      /^model\.cfg:6: layer 0 \(\[maxpool\]\): maxpool size=3 stride=2 padding=2 on 8 pixels gives 4 outputs in darknet; no Caffe pooling padding/,
    );
    expect(exportOnnx(net, weights).length).toBeGreaterThan(0);
  });

  it('missing weights for a weighted layer name the layer', () => {
    const net = network('[convolutional]\nfilters=2\nsize=1\nstride=1\nactivation=linear\n');
    const empty: NetworkWeights = { header: randomWeights(net, 1).header, layers: [null] };
    expect(() => exportOnnx(net, empty)).toThrow(
      /^model\.cfg:6: layer 0 \(\[convolutional\]\): has no weights$/,
    );
  });
});

describe('exported model paths', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'darknet-paths-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('recognises .onnx and both Caffe files, and names what is missing or unknown', () => {
    expect(exportedModelAt('/models/a.onnx')).toEqual({ format: 'onnx', path: '/models/a.onnx' });
    const prototxt = join(directory, 'm.prototxt');
    const caffemodel = join(directory, 'm.caffemodel');
    writeFileSync(prototxt, '');
    expect(() => exportedModelAt(prototxt)).toThrow(
      `the Caffe export needs ${caffemodel}, which does not exist`,
    );
    writeFileSync(caffemodel, '');
    expect(exportedModelAt(caffemodel)).toEqual({ format: 'caffe', prototxt, caffemodel });
    expect(() => exportedModelAt('/models/a.engine')).toThrow(
      'not an export this tool can verify (expected .onnx, .prototxt or .caffemodel)',
    );
  });
});
