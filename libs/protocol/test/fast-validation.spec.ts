import fc from 'fast-check';
import { MESSAGE_SCHEMAS, type MessageKind } from '../src';
import { acceptWithoutSchema } from '../src/fast-validation';
import { mutateAt, validJson, withField } from './fixtures';

const HOT_KINDS = ['telemetry', 'events'] as const satisfies readonly MessageKind[];
type HotKind = (typeof HOT_KINDS)[number];
const RUNS = 3000;

/** Values at and just past every bound the two schemas draw, and values of the wrong type. */
const edgeValue = fc.oneof(
  fc.constantFrom<unknown>(
    0,
    -0,
    1,
    -1,
    0.5,
    0.7,
    1 + 1e-6,
    1 + 1e-5,
    1.5,
    2,
    32,
    33,
    64,
    65,
    100,
    100.5,
    200,
    201,
    -100,
    -101,
    500,
    501,
    10_000,
    10_001,
    409_600,
    409_601,
    3_600_000,
    3_600_001,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    Infinity,
    null,
    true,
    '',
    'x',
    'happy',
    'model-2',
    'bad id!',
    'a'.repeat(64),
    'a'.repeat(65),
    'm'.repeat(129),
    [],
    {},
    { p50: 1, p95: 2, p99: 3 },
    { p50: 3, p95: 2, p99: 1 },
    { x: 0.5, y: 0.5, width: 0.5, height: 0.6 },
    { fromSeq: 3, toSeq: 2 },
    { depth: 1, droppedTotal: 0 },
  ),
  fc.integer({ min: -5, max: 5_000 }),
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.string({ maxLength: 70 }),
);

/** JSON text with every object's keys sorted: compares content, not key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** The two must agree: the hand-written check accepts exactly what the schema accepts without changing it. */
function expectAgreement(kind: HotKind, json: Record<string, unknown>): boolean {
  const fast = acceptWithoutSchema(kind, json);
  const schema = MESSAGE_SCHEMAS[kind].safeParse(json);
  const schemaAcceptsUnchanged = schema.success && canonical(schema.data) === canonical(json);
  expect({ fast: fast !== undefined, json }).toEqual({ fast: schemaAcceptsUnchanged, json });
  if (fast !== undefined) expect(fast).toBe(json);
  return fast !== undefined;
}

/** Valid messages that reach the optional and nullable branches too. */
function validVariants(kind: HotKind): Record<string, unknown>[] {
  const valid = validJson(kind);
  if (kind === 'telemetry') {
    return [
      valid,
      withField(valid, ['map50'], 0.5),
      withField(valid, ['map50'], null),
      withField(withField(valid, ['latencyMs'], null), ['gpu'], null),
      withField(withField(valid, ['modelId'], null), ['accuracy'], null),
      withField(valid, ['gpu'], { loadPercent: 0, memoryUsedBytes: 1, memoryTotalBytes: 2 }),
    ];
  }
  return [
    valid,
    withField(valid, ['lost'], [{ fromSeq: 1, toSeq: 40 }]),
    withField(withField(valid, ['events'], []), ['lost'], [{ fromSeq: 5, toSeq: 5 }]),
  ];
}

describe.each(HOT_KINDS)('the hand-written %s check against its zod schema', (kind) => {
  it('accepts the valid variants (so the fast path is actually taken)', () => {
    for (const json of validVariants(kind)) expect(acceptWithoutSchema(kind, json)).toBe(json);
  });

  it('agrees with the schema on values at and past every bound, at any path', () => {
    const variants = validVariants(kind);
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        edgeValue,
        (variant, choices, value) => {
          const base = variants[variant % variants.length] as Record<string, unknown>;
          if (expectAgreement(kind, mutateAt(base, choices, value) as Record<string, unknown>)) accepted += 1;
        },
      ),
      { numRuns: RUNS },
    );
    // Both outcomes occur: the generator reaches valid variants as well as invalid ones.
    expect(accepted).toBeGreaterThan(RUNS / 20);
    expect(accepted).toBeLessThan(RUNS);
  });

  it('leaves unknown keys (which the schema strips) and missing keys to the schema', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (choices) => {
        const valid = validJson(kind);
        expectAgreement(kind, extendAt(valid, choices));
        // undefined drops the key (or turns an array item into null) in the JSON round trip; optional keys and
        // thermal zones may go, required ones may not.
        const without = JSON.parse(JSON.stringify(mutateAt(valid, choices, undefined))) as Record<
          string,
          unknown
        >;
        expectAgreement(kind, without);
      }),
      { numRuns: RUNS / 10 },
    );
  });
});

/** Adds `unexpected: 1` to the deepest object on the path chosen by `choices`. */
function extendAt(json: Record<string, unknown>, choices: readonly number[]): Record<string, unknown> {
  const path: (string | number)[] = [];
  let node: unknown = json;
  for (const choice of choices) {
    if (Array.isArray(node) && node.length > 0) {
      path.push(choice % node.length);
      node = node[choice % node.length];
    } else if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      const keys = Object.keys(node);
      const key = keys[choice % keys.length] as string;
      const next = (node as Record<string, unknown>)[key];
      if (typeof next !== 'object' || next === null) break;
      path.push(key);
      node = next;
    } else break;
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node))
    return withField(json, ['unexpected'], 1);
  return withField(json, [...path, 'unexpected'], 1);
}

describe('decodeMessage with the fast path', () => {
  it('still names the bad field of an invalid telemetry message (the schema writes the error)', () => {
    const json = withField(validJson('telemetry'), ['latencyMs'], { p50: 3, p95: 2, p99: 1 });
    expect(acceptWithoutSchema('telemetry', json)).toBeUndefined();
    const result = MESSAGE_SCHEMAS.telemetry.safeParse(json);
    expect(result.success).toBe(false);
  });
});
