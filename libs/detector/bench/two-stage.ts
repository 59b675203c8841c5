/**
 * The two-stage part of `npm run bench:detector`: face-api's face detector alone ("detect") and with the expression
 * net on every detected face ("detect+classify"), both on the native engine, frames of the demo video (640x480,
 * face-api's thresholds), two calls in flight; each mode in its own process, best of `rounds` interleaved runs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const TWO_STAGE_MODES = ['detect', 'detect+classify'] as const;
export type TwoStageMode = (typeof TWO_STAGE_MODES)[number];

export function isTwoStageMode(mode: string): mode is TwoStageMode {
  return (TWO_STAGE_MODES as readonly string[]).includes(mode);
}

export interface TwoStageRow {
  mode: TwoStageMode;
  threads: number;
  fps: number;
  p50Ms: number;
  p99Ms: number;
  iterations: number;
  facesPerFrame: number;
  rssMb: number;
  detectorGflops: number;
  classifierGflops: number;
}

export interface TwoStageSummary {
  rows: TwoStageRow[];
  /** detect+classify FPS / detect FPS. */
  twoStageVsSingleStage: number | undefined;
}

function measure(mode: TwoStageMode, seconds: number, threads: number): TwoStageRow | undefined {
  try {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'measure-two-stage.ts'), mode, String(seconds), String(threads)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return JSON.parse(output.trim().split('\n').pop() ?? '') as TwoStageRow;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    process.stderr.write(`two-stage/${mode} failed: ${stderr.trim().split('\n').slice(-3).join(' | ')}\n`);
    return undefined;
  }
}

export function benchTwoStage(seconds: number, threads: number, rounds: number): TwoStageSummary {
  const best = new Map<TwoStageMode, TwoStageRow>();
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of TWO_STAGE_MODES) {
      const row = measure(mode, seconds, threads);
      if (row && row.fps > (best.get(mode)?.fps ?? 0)) best.set(mode, row);
    }
  }
  const single = best.get('detect');
  const two = best.get('detect+classify');
  return {
    rows: [...best.values()],
    twoStageVsSingleStage: single && two && single.fps > 0 ? two.fps / single.fps : undefined,
  };
}

export function formatTwoStage(summary: TwoStageSummary): string {
  const lines = summary.rows.map(
    (r) =>
      `faceapi  ${r.mode.padEnd(15)}  ${r.fps.toFixed(2).padStart(6)} FPS  p50 ${r.p50Ms.toFixed(1).padStart(6)} ms  ` +
      `p99 ${r.p99Ms.toFixed(1).padStart(6)} ms  ${r.facesPerFrame.toFixed(2)} faces/frame  RSS ${r.rssMb.toFixed(0)} MB`,
  );
  const ratio = summary.twoStageVsSingleStage;
  return (
    `two-stage (face-api detector + expression net, demo video 640x480, ${summary.rows[0]?.threads ?? '?'} threads):\n` +
    `${lines.join('\n')}\n` +
    `detect+classify / detect FPS: ${ratio === undefined ? '-' : `${ratio.toFixed(2)}x`}\n`
  );
}
