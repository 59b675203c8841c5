/** A face box in image pixels with its score. */
export interface ScoredBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
}

export function iou(a: ScoredBox, b: ScoredBox): number {
  const width = Math.max(0, Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left));
  const height = Math.max(0, Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top));
  const intersection = width * height;
  return intersection / (a.width * a.height + b.width * b.height - intersection);
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Decodes the raw tensor a single-class darknet `[region]` reads (`num * 6` channels: x, y, w, h, objectness,
 * class; CHW) as darknet's region layer does (`x = (col + logistic(tx)) / grid`, `w = exp(tw) * anchor_w / grid`,
 * score = logistic(objectness) * softmax(class) = logistic(objectness) for one class), maps the boxes from the
 * square network input, which holds the image resized by `inputSize / max(w, h)` at its top-left, back to
 * image pixels, and applies greedy non-maximum suppression (drop IoU > `nmsIou`).
 */
export function decodeSingleClassRegion(
  raw: Float32Array,
  grid: number,
  anchors: readonly (readonly [number, number])[],
  image: { width: number; height: number },
  inputSize: number,
  thresholds: { score: number; nmsIou: number },
): ScoredBox[] {
  const scale = inputSize / Math.max(image.width, image.height);
  const contentWidth = Math.round(image.width * scale);
  const contentHeight = Math.round(image.height * scale);
  const plane = grid * grid;
  const at = (anchor: number, entry: number, cell: number): number =>
    raw[(anchor * 6 + entry) * plane + cell]!;
  const candidates: ScoredBox[] = [];
  anchors.forEach(([anchorWidth, anchorHeight], anchor) => {
    for (let cell = 0; cell < plane; cell += 1) {
      const score = logistic(at(anchor, 4, cell));
      if (score <= thresholds.score) continue;
      const row = Math.floor(cell / grid);
      const col = cell % grid;
      const centreX = ((col + logistic(at(anchor, 0, cell))) / grid) * (inputSize / contentWidth);
      const centreY = ((row + logistic(at(anchor, 1, cell))) / grid) * (inputSize / contentHeight);
      const width = ((Math.exp(at(anchor, 2, cell)) * anchorWidth) / grid) * (inputSize / contentWidth);
      const height = ((Math.exp(at(anchor, 3, cell)) * anchorHeight) / grid) * (inputSize / contentHeight);
      candidates.push({
        left: (centreX - width / 2) * image.width,
        top: (centreY - height / 2) * image.height,
        width: width * image.width,
        height: height * image.height,
        score,
      });
    }
  });
  candidates.sort((a, b) => b.score - a.score);
  const kept: ScoredBox[] = [];
  for (const candidate of candidates) {
    if (kept.every((box) => iou(box, candidate) <= thresholds.nmsIou)) kept.push(candidate);
  }
  return kept;
}
