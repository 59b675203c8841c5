import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { convertFaceapiModels, locateFaceapiPackage, serialiseWeights } from '@emofleet/darknet';
import { parseInt8Plan } from '@emofleet/detector';
import { onnx } from 'onnx-proto';
import { registerModelCommands } from '../src/commands/model';
import { runCommand } from './support/run-command';

// face-api's pretrained tiny face detector (imported from the installed package) on two of its demo photos,
// decoded by ffmpeg as `emofleet model quantize` does.
async function run(...args: string[]): Promise<string> {
  return (await runCommand(registerModelCommands, ['model', ...args])).stdout;
}

describe('emofleet model quantize', () => {
  jest.setTimeout(300_000);
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'cli-quantize-'));
    const { detector } = convertFaceapiModels(locateFaceapiPackage().modelDir);
    writeFileSync(join(directory, 'face.cfg'), detector.cfgText);
    writeFileSync(join(directory, 'face.weights'), serialiseWeights(detector.network, detector.weights));
    mkdirSync(join(directory, 'calib'));
    locateFaceapiPackage()
      .photos.slice(0, 2)
      .forEach((photo, i) => copyFileSync(photo, join(directory, 'calib', `photo${i + 1}.jpg`)));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('writes the plan, the QDQ ONNX and the TensorRT calibration cache, and reports accuracy per layer', async () => {
    const file = (name: string) => join(directory, name);
    const output = await run(
      'quantize',
      file('face.cfg'),
      file('face.weights'),
      '--calib',
      file('calib'),
      '--out',
      file('plan.json'),
      '--qdq-onnx',
      file('face.qdq.onnx'),
      '--tensorrt-cache',
      file('calibration.cache'),
      '--tensorrt-version',
      '8.5.2',
      '--no-sensitivity',
      '--threads',
      '2',
      '--json',
    );
    const report = JSON.parse(output) as {
      calibrationImages: number;
      accuracy: { fp32: number; int8: number; drop: number };
      layers: Array<{ index: number; precision: string; method?: string }>;
    };
    expect(report.calibrationImages).toBe(2);
    expect(report.accuracy.fp32).toBe(1); // agreement of FP32 with itself on the calibration photos
    expect(report.accuracy.drop).toBeCloseTo((report.accuracy.fp32 - report.accuracy.int8) * 100, 6);
    const plan = parseInt8Plan(JSON.parse(readFileSync(file('plan.json'), 'utf8')));
    const int8 = plan.layers.filter((layer) => layer.precision === 'int8');
    expect(int8.length).toBeGreaterThan(0);
    expect(report.layers.filter((layer) => layer.precision === 'int8')).toHaveLength(int8.length);
    const graph = onnx.ModelProto.decode(readFileSync(file('face.qdq.onnx'))).graph as onnx.IGraphProto;
    const ops = (graph.node ?? []).map((node) => node.opType);
    expect(ops.filter((op) => op === 'QuantizeLinear').length).toBe(2 * int8.length); // input and output
    const cache = readFileSync(file('calibration.cache'), 'utf8').split('\n');
    expect(cache[0]).toBe('TRT-8502-EntropyCalibration2');
    expect(cache[1]).toMatch(/^input: [0-9a-f]{8}$/);
  });

  it('refuses a TensorRT version it cannot write a header for', async () => {
    await expect(
      run('quantize', 'a.cfg', 'a.weights', '--calib', 'x', '--out', 'p.json', '--tensorrt-version', '8.5'),
    ).rejects.toThrow(/TensorRT version '8\.5' is not major\.minor\.patch/);
  });
});
