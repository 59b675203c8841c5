import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DetectorAdapter } from '../detector';
import { type TrackerDetection } from '../tracker';
import { evaluateEvalSet, EvalSetError, parseDarknetLabels } from './eval-set';

jest.setTimeout(30_000);

const NAMES = ['neutral', 'happy', 'sad'];

/** Answers each eval frame (by index = image order) with fixed detections. */
function scriptedDetector(perFrame: readonly (readonly TrackerDetection[])[]): DetectorAdapter {
  return {
    modelId: 'scripted',
    backend: 'test-double',
    detect: (frame) => Promise.resolve(perFrame[frame.index] ?? []),
    close: () => Promise.resolve(),
  };
}

describe('parseDarknetLabels', () => {
  it('turns centre/size lines into top-left boxes with class names', () => {
    expect(parseDarknetLabels('1 0.5 0.5 0.5 0.25\n\n2 0.2 0.3 0.2 0.2\n', NAMES, 'a.txt')).toEqual([
      { label: 'happy', box: { x: 0.25, y: 0.375, width: 0.5, height: 0.25 } },
      { label: 'sad', box: { x: 0.1, y: expect.closeTo(0.2, 12) as number, width: 0.2, height: 0.2 } },
    ]);
  });

  it.each([
    ['1 0.5 0.5 0.5', /a\.txt:1: expected "<class id> <cx> <cy> <w> <h>"/],
    ['7 0.5 0.5 0.5 0.5', /a\.txt:1: class id "7" is not a line of model\.names \(0\.\.2\)/],
    ['\n1 0.5 0.5 1.5 0.5', /a\.txt:2: centre and size must be numbers in \[0, 1\]/],
    ['happy 0.5 0.5 0.5 0.5', /a\.txt:1: class id "happy"/],
  ])('names the file and line of %j', (text, message) => {
    expect(() => parseDarknetLabels(text, NAMES, 'a.txt')).toThrow(EvalSetError);
    expect(() => parseDarknetLabels(text, NAMES, 'a.txt')).toThrow(message);
  });
});

describe('evaluateEvalSet (images decoded by Debian ffmpeg, scripted detector)', () => {
  let bundle: string;
  beforeEach(() => {
    bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-eval-'));
    fs.writeFileSync(path.join(bundle, 'model.names'), `${NAMES.join('\n')}\n`);
    fs.mkdirSync(path.join(bundle, 'eval'));
    for (const name of ['a', 'b', 'c']) {
      execFileSync('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'color=c=gray:size=32x32',
        '-frames:v',
        '1',
        path.join(bundle, 'eval', `${name}.png`),
      ]);
    }
  });
  afterEach(() => fs.rmSync(bundle, { recursive: true, force: true }));

  const centre = { x: 0.25, y: 0.25, width: 0.5, height: 0.5 };

  it("computes the paper's accuracy and mAP@0.5 over the whole set", async () => {
    fs.writeFileSync(path.join(bundle, 'eval', 'a.txt'), '1 0.5 0.5 0.5 0.5\n');
    fs.writeFileSync(path.join(bundle, 'eval', 'b.txt'), '2 0.5 0.5 0.5 0.5\n');
    fs.writeFileSync(path.join(bundle, 'eval', 'c.txt'), '1 0.2 0.2 0.4 0.4\n1 0.8 0.8 0.4 0.4\n');
    const detector = scriptedDetector([
      [{ label: 'happy', score: 0.9, box: centre }],
      [
        { label: 'happy', score: 0.8, box: centre },
        { label: 'sad', score: 0.6, box: centre },
      ],
      [{ label: 'happy', score: 0.7, box: { x: 0, y: 0, width: 0.4, height: 0.4 } }],
    ]);
    const result = await evaluateEvalSet(detector, bundle, { frameWidth: 32, frameHeight: 32 });
    // Accuracy: the best detection is right in a and c, wrong in b (happy over sad) → 2/3.
    // happy: 3 boxes; ranked a 0.9 TP, b 0.8 FP, c 0.7 TP → AP = 1/3 · 1 + 1/3 · 2/3 = 5/9. sad: AP 1.
    expect(result?.images).toBe(3);
    expect(result?.accuracy).toBeCloseTo(2 / 3, 12);
    expect(result?.averagePrecisionPerClass.happy).toBeCloseTo(5 / 9, 12);
    expect(result?.averagePrecisionPerClass.sad).toBe(1);
    expect(result?.map50).toBeCloseTo(7 / 9, 12);
  });

  it('refuses an eval image without labels, naming the label file', async () => {
    fs.writeFileSync(path.join(bundle, 'eval', 'a.txt'), '1 0.5 0.5 0.5 0.5\n');
    fs.writeFileSync(path.join(bundle, 'eval', 'b.txt'), '\n');
    await expect(
      evaluateEvalSet(scriptedDetector([]), bundle, { frameWidth: 32, frameHeight: 32 }),
    ).rejects.toThrow(/eval\/b\.txt: no darknet label line for b\.png/);
  });

  it('is null for a bundle without eval images', async () => {
    fs.rmSync(path.join(bundle, 'eval'), { recursive: true });
    expect(
      await evaluateEvalSet(scriptedDetector([]), bundle, { frameWidth: 32, frameHeight: 32 }),
    ).toBeNull();
  });
});
