/**
 * Maps a model's own class labels to the names a bundle reports. A bundle property: the weights and `.names`
 * file stay as trained; labels without an entry are kept unchanged (never dropped).
 */
export type ExpressionMapping = Readonly<Record<string, string>>;

/** face-api's expression labels to the paper's four expressions; `neutral`, `fearful`, `disgusted` are kept. */
export const PAPER_EXPRESSION_MAPPING: ExpressionMapping = {
  happy: 'Happiness',
  sad: 'Sadness',
  surprised: 'Surprise',
  angry: 'Anger',
};

/**
 * The labels a bundle reports: `labels[i]` renamed by `mapping`, or kept. Throws when the mapping names a
 * label the model does not have (a mapping for another model), or when two labels would get the same name.
 */
export function applyExpressionMapping(labels: readonly string[], mapping: ExpressionMapping): string[] {
  const unknown = Object.keys(mapping).filter((label) => !labels.includes(label));
  if (unknown.length > 0) {
    throw new Error(
      `the label mapping renames ${unknown.map((label) => `'${label}'`).join(', ')}, which the model does not have (labels: ${labels.join(', ')})`,
    );
  }
  const mapped = labels.map((label) =>
    Object.prototype.hasOwnProperty.call(mapping, label) ? (mapping[label] ?? label) : label,
  );
  const duplicate = mapped.find((label, index) => mapped.indexOf(label) !== index);
  if (duplicate !== undefined) {
    throw new Error(`the label mapping gives two classes the name '${duplicate}'`);
  }
  return mapped;
}
