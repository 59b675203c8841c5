/**
 * Maps a model's own class labels to the names a bundle reports. A bundle property: the weights and `.names`
 * file stay as trained; labels without an entry are kept unchanged (never dropped). `mappedLabels` of
 * `@emofleet/protocol` applies it (the agent and the control plane read bundles through the protocol library).
 */
export type ExpressionMapping = Readonly<Record<string, string>>;

/** face-api's expression labels to the paper's four expressions; `neutral`, `fearful`, `disgusted` are kept. */
export const PAPER_EXPRESSION_MAPPING: ExpressionMapping = {
  happy: 'Happiness',
  sad: 'Sadness',
  surprised: 'Surprise',
  angry: 'Anger',
};
