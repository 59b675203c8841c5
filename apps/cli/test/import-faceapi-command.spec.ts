import { existsSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { loadCfg, loadWeights } from '@emofleet/darknet';
import { registerModelCommands } from '../src/commands/model';
import { runCommand } from './support/run-command';

const FACEAPI_MODEL_DIR = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');

async function run(...args: string[]): Promise<string> {
  return (await runCommand(registerModelCommands, ['model', ...args])).stdout;
}

describe('emofleet model import-faceapi', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'cli-import-faceapi-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('writes both networks as darknet files and reports them', async () => {
    const out = join(directory, 'faceapi');
    const output = await run('import-faceapi', FACEAPI_MODEL_DIR, '--out', out);
    expect(output).toMatch(/^face detector: 19 layers, input 3x416x416, /m);
    expect(output).toMatch(/^expression classifier: \d+ layers, input 3x112x112, /m);
    expect(output).toContain('(neutral, happy, sad, angry, fearful, disgusted, surprised)');
    for (const basename of ['tiny-face-detector', 'face-expression']) {
      const network = loadCfg(join(out, `${basename}.cfg`));
      loadWeights(network, join(out, `${basename}.weights`));
      expect(existsSync(join(out, `${basename}.names`))).toBe(true);
    }
    expect(existsSync(join(out, 'faceapi-import.json'))).toBe(true);
  });

  it('names the missing manifest when the directory is not a face-api model folder', async () => {
    await expect(run('import-faceapi', directory, '--out', join(directory, 'out'))).rejects.toThrow(
      /tiny_face_detector_model-weights_manifest\.json: cannot read the weights manifest/,
    );
  });
});
