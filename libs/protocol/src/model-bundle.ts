import { z } from 'zod';
import { formatIssues } from './issues';

/**
 * The files of a `darknet-bundle` (an uncompressed tar the control plane packs and devices unpack). The first three
 * are always there; the classifier triple and `bundle.json` make a two-stage bundle; `eval/*` is an optional eval
 * set (images + darknet label files).
 */
export const MODEL_BUNDLE_FILES = {
  cfg: 'model.cfg',
  weights: 'model.weights',
  names: 'model.names',
  classifierCfg: 'classifier.cfg',
  classifierWeights: 'classifier.weights',
  classifierNames: 'classifier.names',
  description: 'bundle.json',
} as const;

/** A class label as events carry it. */
const labelSchema = z.string().min(1).max(64);

const finiteNumber = z.number().refine(Number.isFinite, 'must be a finite number');

/** face-api's input preparation: zero padding to a square, TF bilinear resize, (rgb - mean) * scale on 0..255. */
export const padToSquareInputSchema = z
  .object({
    fit: z.literal('pad-to-square'),
    padding: z.enum(['bottom-right', 'centred']),
    mean: z.tuple([finiteNumber, finiteNumber, finiteNumber]),
    scale: finiteNumber.refine((value) => value !== 0, 'must not be 0'),
  })
  .strict();

/** darknet's letterbox_image: aspect kept, centred, grey fill, RGB / 255. */
export const letterboxInputSchema = z.object({ fit: z.literal('letterbox') }).strict();

export const networkInputSchema = z.discriminatedUnion('fit', [letterboxInputSchema, padToSquareInputSchema]);

/**
 * `bundle.json`: what the cfg/weights/names files cannot say. Without it a bundle is a single-stage darknet
 * detector fed by letterbox, reporting model.names as they are.
 */
export const modelBundleDescriptionSchema = z
  .object({
    formatVersion: z.literal(1),
    detector: z
      .object({
        input: networkInputSchema,
        /** The thresholds the model was made for (e.g. face-api's 0.5 / 0.4); devices may raise the score one. */
        scoreThreshold: z.number().min(0).max(1).optional(),
        iouThreshold: z.number().min(0).max(1).optional(),
      })
      .strict(),
    /** A classifier (classifier.cfg/.weights/.names) run on each detected box; its labels become the labels. */
    classifier: z.object({ input: padToSquareInputSchema }).strict().optional(),
    /**
     * Renames reported labels (the classifier's when there is one, else model.names): e.g. face-api's `happy` to the
     * paper's `Happiness`. Labels without an entry are kept as they are.
     */
    labelMapping: z.record(labelSchema, labelSchema).default({}),
    /** Where the model comes from, for people (e.g. "face-api 1.7.15, imported by emofleet model import-faceapi"). */
    source: z.string().min(1).max(1024).optional(),
  })
  .strict();

export type NetworkInputSpec = z.infer<typeof networkInputSchema>;
export type PadToSquareInputSpec = z.infer<typeof padToSquareInputSchema>;
export type ModelBundleDescription = z.infer<typeof modelBundleDescriptionSchema>;

/** What a bundle without bundle.json means. */
export const SINGLE_STAGE_BUNDLE: ModelBundleDescription = {
  formatVersion: 1,
  detector: { input: { fit: 'letterbox' } },
  labelMapping: {},
};

/** A bundle.json that is not valid JSON or does not match the schema; the message names the fields. */
export class ModelBundleDescriptionError extends Error {
  override readonly name = 'ModelBundleDescriptionError';
}

/** Parses bundle.json text; throws ModelBundleDescriptionError naming every bad field. */
export function parseModelBundleDescription(text: string): ModelBundleDescription {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelBundleDescriptionError(
      `${MODEL_BUNDLE_FILES.description}: not JSON (${(error as Error).message})`,
    );
  }
  const parsed = modelBundleDescriptionSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelBundleDescriptionError(
      `${MODEL_BUNDLE_FILES.description}: ${formatIssues(parsed.error.issues)}`,
    );
  }
  return parsed.data;
}

/**
 * The labels a bundle reports: `labels[i]` renamed by `mapping`, or kept. Throws ModelBundleDescriptionError when
 * the mapping renames a label the model does not have, or gives two classes the same name.
 */
export function mappedLabels(labels: readonly string[], mapping: Readonly<Record<string, string>>): string[] {
  const unknown = Object.keys(mapping).filter((label) => !labels.includes(label));
  if (unknown.length > 0) {
    throw new ModelBundleDescriptionError(
      `${MODEL_BUNDLE_FILES.description}: labelMapping renames ${unknown.map((label) => `'${label}'`).join(', ')}, ` +
        `which the model does not have (labels: ${labels.join(', ')})`,
    );
  }
  const mapped = labels.map((label) =>
    Object.prototype.hasOwnProperty.call(mapping, label) ? (mapping[label] ?? label) : label,
  );
  const duplicate = mapped.find((label, index) => mapped.indexOf(label) !== index);
  if (duplicate !== undefined) {
    throw new ModelBundleDescriptionError(
      `${MODEL_BUNDLE_FILES.description}: labelMapping gives two classes the name '${duplicate}'`,
    );
  }
  return mapped;
}

/** Lines of a darknet .names file, trimmed, empty lines skipped. */
export function parseNamesFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}
