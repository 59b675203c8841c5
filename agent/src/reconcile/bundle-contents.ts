import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  MODEL_BUNDLE_FILES,
  mappedLabels,
  ModelBundleDescriptionError,
  parseModelBundleDescription,
  parseNamesFile,
  SINGLE_STAGE_BUNDLE,
  type ModelBundleDescription,
  type PadToSquareInputSpec,
} from '@emofleet/protocol';

/** A network of an installed bundle: file paths and its own labels (from its .names file). */
export interface BundleNetwork {
  readonly cfg: string;
  readonly weights: string;
  readonly labels: readonly string[];
}

/** What an unpacked darknet bundle holds, checked for consistency. */
export interface BundleContents {
  readonly description: ModelBundleDescription;
  readonly detector: BundleNetwork;
  /** The second stage, when the bundle has one. */
  readonly classifier?: BundleNetwork & { readonly input: PadToSquareInputSpec };
  /**
   * The labels detections carry and eval sets index: the classifier's when there is one, else the detector's,
   * renamed by the bundle's label mapping (labels without an entry kept).
   */
  readonly reportedLabels: readonly string[];
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (stat) => stat.isFile(),
    () => false,
  );
}

async function readLabels(file: string): Promise<string[]> {
  return parseNamesFile(await fs.readFile(file, 'utf8'));
}

/**
 * Reads an unpacked bundle: `bundle.json` (absent: a single-stage darknet detector fed by letterbox), the labels,
 * and the classifier files when the description has a classifier. Throws ModelBundleDescriptionError naming the file
 * for an invalid description, classifier files without a classifier in the description (or the reverse), or a label
 * mapping the labels do not fit.
 */
export async function readBundleContents(directory: string): Promise<BundleContents> {
  const file = (name: string) => path.join(directory, name);
  const descriptionFile = file(MODEL_BUNDLE_FILES.description);
  const description = (await exists(descriptionFile))
    ? parseModelBundleDescription(await fs.readFile(descriptionFile, 'utf8'))
    : SINGLE_STAGE_BUNDLE;
  const detector: BundleNetwork = {
    cfg: file(MODEL_BUNDLE_FILES.cfg),
    weights: file(MODEL_BUNDLE_FILES.weights),
    labels: await readLabels(file(MODEL_BUNDLE_FILES.names)),
  };
  const hasClassifierFiles = await exists(file(MODEL_BUNDLE_FILES.classifierCfg));
  if (description.classifier === undefined) {
    if (hasClassifierFiles) {
      throw new ModelBundleDescriptionError(
        `${MODEL_BUNDLE_FILES.classifierCfg} is there but ${MODEL_BUNDLE_FILES.description} describes no classifier`,
      );
    }
    return { description, detector, reportedLabels: mappedLabels(detector.labels, description.labelMapping) };
  }
  if (!hasClassifierFiles) {
    throw new ModelBundleDescriptionError(
      `${MODEL_BUNDLE_FILES.description} describes a classifier but the bundle has no ${MODEL_BUNDLE_FILES.classifierCfg}`,
    );
  }
  const classifier = {
    cfg: file(MODEL_BUNDLE_FILES.classifierCfg),
    weights: file(MODEL_BUNDLE_FILES.classifierWeights),
    labels: await readLabels(file(MODEL_BUNDLE_FILES.classifierNames)),
    input: description.classifier.input,
  };
  return {
    description,
    detector,
    classifier,
    reportedLabels: mappedLabels(classifier.labels, description.labelMapping),
  };
}
