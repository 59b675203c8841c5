import { readFile } from 'node:fs/promises';
import { Injectable } from '@nestjs/common';
import { createDetector, type Detection } from '@emofleet/detector';
import { mappedLabels, parseModelBundleDescription, parseNamesFile } from '@emofleet/protocol';
import { decode as decodeJpeg } from 'jpeg-js';
import { type FaceapiBundleFiles } from './faceapi-bundle';

/** One photo and what the two-stage bundle finds in it (boxes in image pixels). */
export interface LabelledPhoto {
  photo: string;
  width: number;
  height: number;
  detections: Detection[];
}

/**
 * The native detector (libs/detector) for the demo: runs the face-api two-stage bundle over JPEG photos, with the
 * bundle's thresholds and its reported labels (the expression net's, mapped to the paper's names).
 */
@Injectable()
export class DemoDetectorAdapter {
  async detectPhotos(files: FaceapiBundleFiles, photos: readonly string[]): Promise<LabelledPhoto[]> {
    const description = parseModelBundleDescription(await readFile(files.bundlePath, 'utf8'));
    if (!description.classifier) throw new Error(`${files.bundlePath} describes no classifier`);
    const detector = await createDetector({
      cfg: files.cfgPath,
      weights: files.weightsPath,
      names: files.namesPath,
      input: description.detector.input,
      classifier: {
        cfg: files.classifierCfgPath,
        weights: files.classifierWeightsPath,
        names: mappedLabels(
          parseNamesFile(await readFile(files.classifierNamesPath, 'utf8')),
          description.labelMapping,
        ),
        input: description.classifier.input,
      },
      threads: 0,
    });
    try {
      const labelled: LabelledPhoto[] = [];
      for (const photo of photos) {
        const image = decodeJpeg(await readFile(photo), { useTArray: true, formatAsRGBA: false });
        const detections = await detector.detect(
          image.data,
          { width: image.width, height: image.height, format: 'rgb24' },
          {
            ...(description.detector.scoreThreshold === undefined
              ? {}
              : { scoreThreshold: description.detector.scoreThreshold }),
            ...(description.detector.iouThreshold === undefined
              ? {}
              : { iouThreshold: description.detector.iouThreshold }),
          },
        );
        labelled.push({ photo, width: image.width, height: image.height, detections });
      }
      return labelled;
    } finally {
      detector.dispose();
    }
  }
}
