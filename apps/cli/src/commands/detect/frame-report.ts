import type { Detection } from '@emofleet/detector';

/** One detection as printed: the box is [x, y, width, height] in source pixels, clipped to the frame. */
export interface ReportedDetection {
  readonly label: string;
  readonly score: number;
  readonly box: readonly [number, number, number, number];
}

/** Everything printed for one frame (`--json` prints exactly this object). */
export interface FrameReport {
  readonly source: string;
  readonly frame: number;
  readonly detections: readonly ReportedDetection[];
}

const roundTo = (value: number, decimals: number): number => {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
};

const clamp = (value: number, max: number): number => Math.min(Math.max(value, 0), max);

/**
 * The detector's boxes may reach past the frame (darknet does not clip them); like darknet's drawing code,
 * the report clips them. Corners are rounded to 0.1 px before the size is taken, so x + w never exceeds
 * the frame width. A box that lies wholly outside the frame (in the letterbox border) is dropped: undefined.
 */
export function reportDetection(
  detection: Detection,
  width: number,
  height: number,
): ReportedDetection | undefined {
  const { box } = detection;
  const left = roundTo(clamp(box.x, width), 1);
  const top = roundTo(clamp(box.y, height), 1);
  const right = roundTo(clamp(box.x + box.width, width), 1);
  const bottom = roundTo(clamp(box.y + box.height, height), 1);
  if (right <= left || bottom <= top) return undefined;
  return {
    label: detection.label,
    score: roundTo(detection.score, 4),
    box: [left, top, roundTo(right - left, 1), roundTo(bottom - top, 1)],
  };
}

export function formatFrameJson(report: FrameReport): string {
  return `${JSON.stringify(report)}\n`;
}

export function formatFrameText(report: FrameReport): string {
  const count = report.detections.length;
  const lines = [`${report.source} frame ${report.frame}: ${count} detection${count === 1 ? '' : 's'}`];
  for (const { label, score, box } of report.detections) {
    const [x, y, w, h] = box;
    lines.push(`  ${label} ${score.toFixed(3)}  x=${x} y=${y} w=${w} h=${h}`);
  }
  return `${lines.join('\n')}\n`;
}
