import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DETECTOR_BASENAME,
  EXPRESSION_BASENAME,
  importFaceapiModels,
  type InputPreprocessing,
  TINY_FACE_DETECTOR,
  writeFileAtomic,
} from '@emofleet/darknet';
import {
  MODEL_BUNDLE_FILES,
  modelBundleDescriptionSchema,
  type ModelBundleDescription,
  type PadToSquareInputSpec,
} from '@emofleet/protocol';

/** The files of the face-api two-stage bundle, as model upload paths. */
export interface FaceapiBundleFiles {
  cfgPath: string;
  weightsPath: string;
  namesPath: string;
  classifierCfgPath: string;
  classifierWeightsPath: string;
  classifierNamesPath: string;
  bundlePath: string;
}

function filesIn(directory: string): FaceapiBundleFiles {
  return {
    cfgPath: join(directory, `${DETECTOR_BASENAME}.cfg`),
    weightsPath: join(directory, `${DETECTOR_BASENAME}.weights`),
    namesPath: join(directory, `${DETECTOR_BASENAME}.names`),
    classifierCfgPath: join(directory, `${EXPRESSION_BASENAME}.cfg`),
    classifierWeightsPath: join(directory, `${EXPRESSION_BASENAME}.weights`),
    classifierNamesPath: join(directory, `${EXPRESSION_BASENAME}.names`),
    bundlePath: join(directory, MODEL_BUNDLE_FILES.description),
  };
}

function inputOf(preprocessing: InputPreprocessing): PadToSquareInputSpec {
  return {
    fit: 'pad-to-square',
    padding: preprocessing.padToSquare,
    mean: [...preprocessing.mean],
    scale: preprocessing.scale,
  };
}

/**
 * Imports face-api's tiny face detector and expression net from the package's `model/` folder into `directory`
 * (libs/darknet's importer) and writes the two-stage bundle.json: each network's input preparation as the import
 * recorded it, face-api's detector thresholds, and the mapping of its labels to the paper's four expressions.
 * Nothing is done when bundle.json is already there (the weights were imported at an earlier start).
 */
export function prepareFaceapiBundle(modelDir: string, directory: string): FaceapiBundleFiles {
  const files = filesIn(directory);
  if (existsSync(files.bundlePath)) return files;
  const imported = importFaceapiModels(modelDir, directory);
  const description: ModelBundleDescription = modelBundleDescriptionSchema.parse({
    formatVersion: 1,
    detector: {
      input: inputOf(imported.detector.preprocessing),
      scoreThreshold: TINY_FACE_DETECTOR.scoreThreshold,
      iouThreshold: TINY_FACE_DETECTOR.iouThreshold,
    },
    classifier: { input: inputOf(imported.expression.preprocessing) },
    labelMapping: imported.labelMapping,
    source: `face-api ${modelDir}: tiny_face_detector_model + face_expression_model, imported by libs/darknet`,
  });
  writeFileAtomic(files.bundlePath, `${JSON.stringify(description, null, 2)}\n`);
  return files;
}
