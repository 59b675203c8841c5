import { createWriteStream } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { type LabelledPhoto } from './demo-detector.adapter';

/**
 * Darknet label lines of one photo: `<class id> <cx> <cy> <w> <h>` relative to the image, the box clipped to it,
 * one line per detection, best score first (the first line is the image's expression for the paper's accuracy).
 */
export function darknetLabelLines(photo: LabelledPhoto): string {
  const clip = (value: number) => Math.min(1, Math.max(0, value));
  return [...photo.detections]
    .sort((a, b) => b.score - a.score)
    .map((detection) => {
      const left = clip(detection.box.x / photo.width);
      const top = clip(detection.box.y / photo.height);
      const right = clip((detection.box.x + detection.box.width) / photo.width);
      const bottom = clip((detection.box.y + detection.box.height) / photo.height);
      const fields = [(left + right) / 2, (top + bottom) / 2, right - left, bottom - top].map((value) =>
        value.toFixed(6),
      );
      return `${detection.classId} ${fields.join(' ')}\n`;
    })
    .join('');
}

/**
 * Writes the demo's eval set: the photos with labels that are the REFERENCE MODEL'S OWN OUTPUTS (the imported
 * face-api model run over them), not human ground truth. It checks fidelity (a device or conversion that changes
 * the model's answers loses accuracy on it); it says nothing about how right the model is. Uncompressed tar,
 * `<photo>` + `<photo stem>.txt`, written to a temporary name and renamed.
 */
export async function writeReferenceEvalSet(photos: readonly LabelledPhoto[], output: string): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(`${output}.part`));
  for (const photo of photos) {
    const name = basename(photo.photo);
    const stem = name.slice(0, name.length - extname(name).length);
    pack.entry({ name, mtime: new Date(0), mode: 0o644 }, await readFile(photo.photo));
    pack.entry({ name: `${stem}.txt`, mtime: new Date(0), mode: 0o644 }, darknetLabelLines(photo));
  }
  pack.finalize();
  await written;
  await rename(`${output}.part`, output);
}
