import { type Network, parseCfg } from '@emofleet/darknet';
import {
  mappedLabels,
  ModelBundleDescriptionError,
  parseModelBundleDescription,
  parseNamesFile,
  type ModelBundleDescription,
  type NetworkInputSpec,
} from '@emofleet/protocol';
import { type ReceivedFile } from './model-upload-files';
import { ModelValidationError } from './model-validation-error';
import { checkWeightsSize } from './weights-size-check';

/** Reads stored upload files: whole (small text files) or the first bytes (weights headers). */
export interface StoredFileReader {
  text(file: ReceivedFile): Promise<string>;
  header(file: ReceivedFile): Promise<Buffer>;
}

/** The files of a version: the detector triple, optionally the classifier triple and bundle.json. */
export interface BundleUpload {
  cfg: ReceivedFile;
  weights: ReceivedFile;
  names: ReceivedFile;
  classifierCfg?: ReceivedFile;
  classifierWeights?: ReceivedFile;
  classifierNames?: ReceivedFile;
  bundle?: ReceivedFile;
}

export interface CheckedBundle {
  /** The detector network (what convert and benchmark work on). */
  network: Network;
  description: ModelBundleDescription | undefined;
  /** The labels detections carry: the classifier's when there is one, mapped by bundle.json. */
  reportedLabels: string[];
  classifier: { cfg: ReceivedFile; weights: ReceivedFile; names: ReceivedFile } | undefined;
}

/** The class count of the detection head (`[region]` or `[yolo]`). */
export function classesOf(network: Network): number {
  const head = [...network.layers]
    .reverse()
    .find((layer) => layer.type === 'region' || layer.type === 'yolo');
  if (!head || (head.type !== 'region' && head.type !== 'yolo')) {
    throw new ModelValidationError(network.source, 'has no [region] or [yolo] layer: not a detector');
  }
  return head.classes;
}

function checkInputFits(input: NetworkInputSpec, network: Network, file: string, role: string): void {
  if (input.fit !== 'pad-to-square') return;
  const [channels, height, width] = network.inputShape;
  if (channels !== 3 || height !== width) {
    throw new ModelValidationError(
      file,
      `${role}.input is pad-to-square, which needs a square 3-channel network input; ${network.source} takes ` +
        `${channels}x${height}x${width}`,
    );
  }
}

async function checkedNames(file: ReceivedFile, reader: StoredFileReader, count: number, what: string) {
  const labels = parseNamesFile(await reader.text(file));
  if (labels.length !== count) {
    throw new ModelValidationError(file.fileName, `has ${labels.length} class names, but ${what}`);
  }
  return labels;
}

/**
 * Checks a version's files before it is accepted: the detector cfg parses and its weights have darknet's exact
 * size, the names match its classes; bundle.json (if any) is valid; the classifier triple comes complete, with a
 * classifier in bundle.json, a cfg without a detection head, exact weights and one name per output; pad-to-square
 * inputs have square networks; the label mapping fits the reported labels.
 */
export async function checkBundleUpload(
  upload: BundleUpload,
  reader: StoredFileReader,
): Promise<CheckedBundle> {
  const { cfg, weights, names, bundle } = upload;
  const network = parseCfg(await reader.text(cfg), cfg.fileName);
  checkWeightsSize(network, await reader.header(weights), weights.sizeBytes, weights.fileName);
  const classes = classesOf(network);
  const detectorLabels = await checkedNames(
    names,
    reader,
    classes,
    `${cfg.fileName} declares classes=${classes}`,
  );

  let description: ModelBundleDescription | undefined;
  if (bundle) {
    try {
      description = parseModelBundleDescription(await reader.text(bundle));
    } catch (error) {
      if (error instanceof ModelBundleDescriptionError)
        throw new ModelValidationError(bundle.fileName, error.message);
      throw error;
    }
    checkInputFits(description.detector.input, network, bundle.fileName, 'detector');
  }

  const classifierParts = {
    classifierCfg: upload.classifierCfg,
    classifierWeights: upload.classifierWeights,
    classifierNames: upload.classifierNames,
  };
  const given = Object.entries(classifierParts).filter(([, file]) => file !== undefined);
  if (given.length > 0 && given.length < 3) {
    const missing = Object.entries(classifierParts)
      .filter(([, file]) => file === undefined)
      .map(([field]) => field);
    throw new ModelValidationError(
      missing.join(', '),
      'missing: a classifier needs classifierCfg, classifierWeights and classifierNames',
    );
  }
  let classifier: CheckedBundle['classifier'];
  let reportedLabels = detectorLabels;
  if (upload.classifierCfg && upload.classifierWeights && upload.classifierNames) {
    if (!bundle || !description?.classifier) {
      throw new ModelValidationError(
        bundle?.fileName ?? 'bundle',
        'a classifier was uploaded, so a bundle.json with a "classifier" (its input preparation) is required',
      );
    }
    const classifierNetwork = parseCfg(
      await reader.text(upload.classifierCfg),
      upload.classifierCfg.fileName,
    );
    const last = classifierNetwork.layers[classifierNetwork.layers.length - 1];
    if (!last || last.type === 'region' || last.type === 'yolo') {
      throw new ModelValidationError(
        upload.classifierCfg.fileName,
        'is not a classifier: its last layer must give one score per class, not a detection head',
      );
    }
    checkWeightsSize(
      classifierNetwork,
      await reader.header(upload.classifierWeights),
      upload.classifierWeights.sizeBytes,
      upload.classifierWeights.fileName,
    );
    const outputs = last.outputShape.reduce((product, size) => product * size, 1);
    reportedLabels = await checkedNames(
      upload.classifierNames,
      reader,
      outputs,
      `${upload.classifierCfg.fileName} has ${outputs} outputs`,
    );
    checkInputFits(description.classifier.input, classifierNetwork, bundle.fileName, 'classifier');
    classifier = {
      cfg: upload.classifierCfg,
      weights: upload.classifierWeights,
      names: upload.classifierNames,
    };
  } else if (description?.classifier) {
    throw new ModelValidationError(
      bundle?.fileName ?? 'bundle',
      'describes a classifier, but no classifierCfg, classifierWeights and classifierNames were uploaded',
    );
  }
  if (description) {
    try {
      reportedLabels = mappedLabels(reportedLabels, description.labelMapping);
    } catch (error) {
      if (error instanceof ModelBundleDescriptionError && bundle) {
        throw new ModelValidationError(bundle.fileName, error.message);
      }
      throw error;
    }
  }
  return { network, description, reportedLabels, classifier };
}
