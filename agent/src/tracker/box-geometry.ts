import { type BoundingBox } from '@emofleet/protocol';

/** Intersection over union of two frame-relative boxes (0 when they do not overlap). */
export function intersectionOverUnion(a: BoundingBox, b: BoundingBox): number {
  const left = Math.max(a.x, b.x);
  const top = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  const intersection = Math.max(0, right - left) * Math.max(0, bottom - top);
  const union = a.width * a.height + b.width * b.height - intersection;
  return union <= 0 ? 0 : intersection / union;
}

/** A pixel box converted to frame-relative coordinates, clipped to the frame. */
export function normalizedBox(
  box: { x: number; y: number; width: number; height: number },
  frameWidth: number,
  frameHeight: number,
): BoundingBox {
  const clamp = (value: number) => Math.min(1, Math.max(0, value));
  const x = clamp(box.x / frameWidth);
  const y = clamp(box.y / frameHeight);
  return {
    x,
    y,
    width: Math.min(1 - x, clamp(box.width / frameWidth)),
    height: Math.min(1 - y, clamp(box.height / frameHeight)),
  };
}
