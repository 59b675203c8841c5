import { mkdirSync } from 'fs';
import { join } from 'path';
import { PAPER_EXPRESSION_MAPPING, type ExpressionMapping } from '../../labels/expression-mapping';
import { writeFileAtomic } from '../../util/write-file-atomic';
import { serialiseWeights } from '../../weights/write-weights';
import type { DarknetModel } from './darknet-model-builder';
import { convertFaceExpressionNet, FACE_EXPRESSION_NET } from './face-expression-net';
import { readTfjsWeights } from './tfjs-weights';
import { convertTinyFaceDetector, TINY_FACE_DETECTOR } from './tiny-face-detector';

/** How an image becomes a network input: `input = (rgb - mean) * scale`, RGB in 0..255, CHW. */
export interface InputPreprocessing {
  readonly width: number;
  readonly height: number;
  /** Zero padding to a square before resizing: at the bottom/right, or split over both sides. */
  readonly padToSquare: 'bottom-right' | 'centred';
  /** Bilinear resize with TF's `align_corners=false, half_pixel_centers=false` sampling. */
  readonly resize: 'bilinear';
  readonly mean: readonly [number, number, number];
  readonly scale: number;
}

/** One converted network and the files written for it. */
export interface ImportedNetwork {
  readonly model: DarknetModel;
  readonly labels: readonly string[];
  readonly preprocessing: InputPreprocessing;
  readonly files: { readonly cfg: string; readonly weights: string; readonly names: string };
}

/** The two converted face-api networks. */
export interface FaceapiImport {
  readonly detector: ImportedNetwork;
  readonly expression: ImportedNetwork;
  /** Expression labels to the paper's names (a bundle property; the `.names` file keeps face-api's labels). */
  readonly labelMapping: ExpressionMapping;
  /** The summary written as `faceapi-import.json`. */
  readonly summaryFile: string;
}

export const DETECTOR_BASENAME = 'tiny-face-detector';
export const EXPRESSION_BASENAME = 'face-expression';
export const IMPORT_SUMMARY_FILE = 'faceapi-import.json';

/** Converts both face-api networks in memory (no files written). */
export function convertFaceapiModels(modelDir: string): { detector: DarknetModel; expression: DarknetModel } {
  const detectorName = TINY_FACE_DETECTOR.modelName;
  const expressionName = FACE_EXPRESSION_NET.modelName;
  return {
    detector: convertTinyFaceDetector(readTfjsWeights(modelDir, detectorName), join(modelDir, detectorName)),
    expression: convertFaceExpressionNet(
      readTfjsWeights(modelDir, expressionName),
      join(modelDir, expressionName),
    ),
  };
}

function writeNetwork(
  outDir: string,
  basename: string,
  model: DarknetModel,
  labels: readonly string[],
  preprocessing: InputPreprocessing,
): ImportedNetwork {
  const files = {
    cfg: join(outDir, `${basename}.cfg`),
    weights: join(outDir, `${basename}.weights`),
    names: join(outDir, `${basename}.names`),
  };
  writeFileAtomic(files.cfg, model.cfgText);
  writeFileAtomic(files.weights, serialiseWeights(model.network, model.weights));
  writeFileAtomic(files.names, `${labels.join('\n')}\n`);
  return { model, labels, preprocessing, files };
}

/**
 * Reads face-api's `tiny_face_detector_model` and `face_expression_model` from `modelDir` (the package's
 * `model/` folder) and writes darknet cfg, weights and names for both into `outDir`, plus
 * `faceapi-import.json` with each network's input preprocessing and the expression label mapping.
 */
export function importFaceapiModels(modelDir: string, outDir: string): FaceapiImport {
  const converted = convertFaceapiModels(modelDir);
  mkdirSync(outDir, { recursive: true });
  const detector = writeNetwork(outDir, DETECTOR_BASENAME, converted.detector, ['face'], {
    width: TINY_FACE_DETECTOR.inputSize,
    height: TINY_FACE_DETECTOR.inputSize,
    padToSquare: 'bottom-right',
    resize: 'bilinear',
    mean: [0, 0, 0],
    scale: 1 / 255,
  });
  const expression = writeNetwork(
    outDir,
    EXPRESSION_BASENAME,
    converted.expression,
    FACE_EXPRESSION_NET.labels,
    {
      width: FACE_EXPRESSION_NET.inputSize,
      height: FACE_EXPRESSION_NET.inputSize,
      padToSquare: 'centred',
      resize: 'bilinear',
      mean: FACE_EXPRESSION_NET.meanRgb,
      scale: 1 / 255,
    },
  );
  const summaryFile = join(outDir, IMPORT_SUMMARY_FILE);
  const describe = (network: ImportedNetwork) => ({
    cfg: network.files.cfg,
    weights: network.files.weights,
    names: network.files.names,
    labels: network.labels,
    preprocessing: network.preprocessing,
  });
  const summary = {
    source: modelDir,
    detector: {
      ...describe(detector),
      scoreThreshold: TINY_FACE_DETECTOR.scoreThreshold,
      nmsIouThreshold: TINY_FACE_DETECTOR.iouThreshold,
    },
    expression: describe(expression),
    labelMapping: PAPER_EXPRESSION_MAPPING,
  };
  writeFileAtomic(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  return { detector, expression, labelMapping: PAPER_EXPRESSION_MAPPING, summaryFile };
}
