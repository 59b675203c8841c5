/** How far an exported model's output is from the reference. */
export interface Difference {
  /** `max |actual - expected|` over all elements (Infinity when the export produced NaN or Infinity). */
  readonly maxAbs: number;
  /** `maxAbs / max(1e-6, max |expected|)`: the error relative to the tensor's scale. */
  readonly maxRel: number;
}

/** Floor of the relative measure's denominator, so an all-zero reference does not divide by zero. */
export const RELATIVE_FLOOR = 1e-6;

/**
 * Compares two tensors element by element. The relative difference is normalised by the largest reference
 * magnitude (not per element, which is meaningless near zero): `max|a-b| / max(1e-6, max|b|)`.
 */
export function compareTensors(expected: Float32Array, actual: Float32Array): Difference {
  if (expected.length !== actual.length) {
    throw new Error(`output sizes differ: reference ${expected.length} values, export ${actual.length}`);
  }
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i += 1) {
    const reference = expected[i]!;
    const difference = Math.abs(actual[i]! - reference);
    // NaN on either side compares false everywhere; count it as an infinite difference.
    if (Number.isNaN(difference)) maxAbs = Infinity;
    else if (difference > maxAbs) maxAbs = difference;
    if (Math.abs(reference) > scale) scale = Math.abs(reference);
  }
  return { maxAbs, maxRel: maxAbs / Math.max(RELATIVE_FLOOR, scale) };
}

/** The larger of two differences, component by component. */
export function worstOf(a: Difference, b: Difference): Difference {
  return { maxAbs: Math.max(a.maxAbs, b.maxAbs), maxRel: Math.max(a.maxRel, b.maxRel) };
}
