import fc from 'fast-check';
import { type RunningControlPlane, startControlPlane } from '../../src/control-plane';
import { type ApiErrorResponseBody, apiRequest } from '../support/api-request';
import {
  authHeaders,
  createTestDatabase,
  testConfig,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from '../support/test-environment';

/**
 * Invalid request bodies generated from the served OpenAPI document, sent as the admin to every endpoint that
 * takes a JSON body, against the real control plane (PostgreSQL, Redis, Mosquitto). Every answer must be a 4xx
 * in the API's error shape naming what is wrong; never a 5xx, and the server stays healthy.
 */

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
  >;
  components: { schemas: Record<string, JsonSchema> };
}

interface JsonEndpoint {
  method: string;
  path: string;
  schema: JsonSchema;
}

/** One invalid body and what its error must name (`undefined`: any 4xx error message will do). */
interface InvalidBody {
  what: string;
  body: string;
  names?: string;
}

const FUZZ_SEED = 1006;
const RUNS_PER_ENDPOINT = 30;
/** Express's JSON body limit (100 KiB): larger bodies are refused with 413 before validation. */
const BODY_LIMIT_BYTES = 100 * 1024;
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Resolves `$ref`s (to components) and single-member `allOf`s. */
function resolve(schema: JsonSchema, document: OpenApiDocument): JsonSchema {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = document.components.schemas[name];
    if (target === undefined) throw new Error(`OpenAPI $ref ${schema.$ref} resolves to nothing`);
    return resolve(target, document);
  }
  if (schema.allOf?.length === 1 && schema.allOf[0]) return resolve(schema.allOf[0], document);
  return schema;
}

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** The JSON types a schema accepts, or `undefined` when it accepts anything. */
function acceptedTypes(schema: JsonSchema, document: OpenApiDocument): Set<JsonType> | undefined {
  const resolved = resolve(schema, document);
  const branches = resolved.oneOf ?? resolved.anyOf;
  if (branches) {
    const union = new Set<JsonType>();
    for (const branch of branches) {
      const types = acceptedTypes(branch, document);
      if (types === undefined) return undefined;
      for (const type of types) union.add(type);
    }
    if (resolved.nullable) union.add('null');
    return union;
  }
  let types: JsonType[];
  if (Array.isArray(resolved.type)) types = resolved.type as JsonType[];
  else if (resolved.type !== undefined) types = [resolved.type as JsonType];
  else if (resolved.enum !== undefined) {
    types = [...new Set(resolved.enum.map((value) => (value === null ? 'null' : typeof value) as JsonType))];
  } else if (resolved.properties !== undefined) types = ['object'];
  else return undefined;
  const set = new Set<JsonType>(types);
  if (set.has('integer')) set.add('number');
  if (resolved.nullable) set.add('null');
  return set;
}

/** A JSON value of a type outside `accepted`; nested garbage for objects and arrays. */
function wrongTypeValue(accepted: Set<JsonType>): fc.Arbitrary<unknown> {
  const garbage = fc.jsonValue({ maxDepth: 4 });
  const candidates: fc.Arbitrary<unknown>[] = [];
  // Letters first, so no numeric coercion could read the string as a number or a date.
  if (!accepted.has('string')) candidates.push(fc.string({ maxLength: 40 }).map((text) => `fuzz ${text}`));
  if (!accepted.has('number')) candidates.push(fc.double({ noNaN: true, noDefaultInfinity: true }));
  if (!accepted.has('boolean')) candidates.push(fc.boolean());
  if (!accepted.has('object'))
    candidates.push(
      fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), garbage, { minKeys: 1, maxKeys: 4 }),
    );
  if (!accepted.has('array')) candidates.push(fc.array(garbage, { minLength: 1, maxLength: 4 }));
  if (!accepted.has('null')) candidates.push(fc.constant(null));
  return fc.oneof(...candidates);
}

/** Nests `value` under `path` (object keys; numeric segments as array indexes), e.g. `phases.0.count`. */
function bodyWith(path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head = '', ...rest] = path;
  const inner = bodyWith(rest, value);
  return /^\d+$/.test(head) ? [inner] : { [head]: inner };
}

/** Every (path, property schema, parent object schema) reachable through objects and array items. */
function fieldsOf(
  schema: JsonSchema,
  document: OpenApiDocument,
  prefix: string[] = [],
  depth = 0,
): { path: string[]; schema: JsonSchema; parent: JsonSchema }[] {
  const resolved = resolve(schema, document);
  if (depth > 4) return [];
  if (resolved.type === 'array' && resolved.items) {
    return fieldsOf(resolved.items, document, [...prefix, '0'], depth + 1);
  }
  const fields: { path: string[]; schema: JsonSchema; parent: JsonSchema }[] = [];
  for (const [name, property] of Object.entries(resolved.properties ?? {})) {
    const path = [...prefix, name];
    fields.push({ path, schema: resolve(property, document), parent: resolved });
    fields.push(...fieldsOf(property, document, path, depth + 1));
  }
  return fields;
}

/** The invalid bodies fast-check draws from for one endpoint's schema. */
function invalidBodies(schema: JsonSchema, document: OpenApiDocument): fc.Arbitrary<InvalidBody> {
  const root = resolve(schema, document);
  const fields = fieldsOf(root, document);
  const arbitraries: fc.Arbitrary<InvalidBody>[] = [];
  const json = (what: string, names: string | undefined) => (value: unknown) => ({
    what,
    body: JSON.stringify(value),
    names,
  });

  // Not an object at all.
  arbitraries.push(
    fc
      .oneof(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }),
        fc.double({ noNaN: true }),
        fc.boolean(),
      )
      .map(json('non-object body', undefined)),
    fc.string({ maxLength: 40 }).map(json('a JSON string as the body', undefined)),
  );
  // Not JSON: truncated, binary garbage, and nesting far beyond any schema.
  arbitraries.push(
    fc
      .tuple(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }),
        fc.nat(),
      )
      .map(([value, cut]) => {
        const text = JSON.stringify(value);
        return { what: 'truncated JSON', body: text.slice(0, 1 + (cut % (text.length - 1))) };
      }),
    fc
      .uint8Array({ minLength: 1, maxLength: 256 })
      .filter((bytes) => !isJson(Buffer.from(bytes).toString('utf8')))
      .map((bytes) => ({ what: 'binary garbage', body: Buffer.from(bytes).toString('latin1') })),
    fc.integer({ min: 1_000, max: 20_000 }).map((depth) => ({
      what: `JSON nested ${depth} deep`,
      body: `{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    })),
  );
  // A required field missing (its siblings and the path to it present).
  for (const field of [{ path: [] as string[], schema: root, parent: root }, ...fields]) {
    const fieldSchema = field.schema;
    for (const name of fieldSchema.required ?? []) {
      const path = [...field.path, name];
      arbitraries.push(
        fc.constant(bodyWith(field.path, {})).map(json(`missing required ${path.join('.')}`, path.join('.'))),
      );
    }
  }
  for (const field of fields) {
    const path = field.path.join('.');
    const accepted = acceptedTypes(field.schema, document);
    // A value of the wrong type, including nested garbage where a scalar belongs.
    if (accepted !== undefined) {
      arbitraries.push(
        wrongTypeValue(accepted).map((value) =>
          json(`wrong type at ${path}`, path)(bodyWith(field.path, value)),
        ),
      );
    }
    const { minimum, maximum, maxLength, enum: allowed } = field.schema;
    const isString = accepted?.has('string') === true && accepted.size <= 2;
    if (maxLength !== undefined && isString) {
      arbitraries.push(
        fc
          .integer({ min: maxLength + 1, max: Math.max(maxLength + 1, 200_000) })
          .map((length) =>
            json(`${length}-character string at ${path}`, path)(bodyWith(field.path, 'x'.repeat(length))),
          ),
      );
    }
    const { format, pattern, minLength } = field.schema;
    if (isString && (format === 'uri' || format === 'date-time' || format === 'email')) {
      // Letters, spaces and punctuation: never a URL, a timestamp or an address.
      arbitraries.push(
        fc
          .stringMatching(/^[a-z %!]{1,40}$/)
          .map((text) => json(`malformed ${format} at ${path}`, path)(bodyWith(field.path, `not ${text}`))),
      );
    }
    if (isString && pattern !== undefined) {
      arbitraries.push(
        fc
          .string({ minLength: 1, maxLength: 40 })
          .filter((text) => !new RegExp(pattern).test(text))
          .map((text) => json(`string not matching ${pattern} at ${path}`, path)(bodyWith(field.path, text))),
      );
    }
    if (isString && minLength !== undefined && minLength > 0) {
      arbitraries.push(
        fc
          .string({ maxLength: minLength - 1 })
          .map((text) =>
            json(`string shorter than ${minLength} at ${path}`, path)(bodyWith(field.path, text)),
          ),
      );
    }
    if (allowed !== undefined && allowed.every((value) => typeof value === 'string')) {
      arbitraries.push(
        fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((value) => !allowed.includes(value))
          .map((value) => json(`value outside the enum at ${path}`, path)(bodyWith(field.path, value))),
      );
    }
    if (accepted?.has('number') === true && !accepted.has('string')) {
      if (maximum !== undefined) {
        arbitraries.push(
          fc
            .double({ min: maximum + 1, max: maximum * 4 + 1e6, noNaN: true })
            .map((value) => json(`${value} above the maximum at ${path}`, path)(bodyWith(field.path, value))),
        );
      }
      if (minimum !== undefined) {
        arbitraries.push(
          fc
            .double({ min: minimum - 1e6, max: minimum - 1, noNaN: true })
            .map((value) => json(`${value} below the minimum at ${path}`, path)(bodyWith(field.path, value))),
        );
      }
      if (field.schema.type === 'integer') {
        arbitraries.push(
          fc
            .integer({ min: 0, max: 100 })
            .map((whole) => json(`a fraction at ${path}`, path)(bodyWith(field.path, whole + 0.5))),
        );
      }
    }
  }
  // An unknown key where the schema forbids extra properties.
  for (const field of [{ path: [] as string[], schema: root }, ...fields]) {
    if (field.schema.additionalProperties !== false || field.schema.properties === undefined) continue;
    arbitraries.push(
      fc
        .tuple(fc.stringMatching(/^[a-z]{4,12}$/), fc.jsonValue({ maxDepth: 3 }))
        .filter(([key]) => !(key in (field.schema.properties ?? {})))
        .map(([key, value]) =>
          json(
            `unknown key ${key} in ${field.path.join('.') || '(root)'}`,
            `fuzz_${key}`,
          )(bodyWith(field.path, { [`fuzz_${key}`]: value })),
        ),
    );
  }
  return fc.oneof(...arbitraries);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}… (${text.length} characters)`;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('API bodies generated from the OpenAPI document (PostgreSQL, Redis, Mosquitto)', () => {
  let controlPlane: RunningControlPlane;
  let document: OpenApiDocument;
  let endpoints: JsonEndpoint[];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('external-services', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    controlPlane = await startControlPlane(test.config, () => undefined);
    document = (await apiRequest<OpenApiDocument>(controlPlane.httpUrl, 'GET', '/docs-json', { token: null }))
      .body;
    endpoints = Object.entries(document.paths).flatMap(([path, operations]) =>
      HTTP_METHODS.flatMap((method) => {
        const schema = operations[method]?.requestBody?.content['application/json']?.schema;
        return schema ? [{ method: method.toUpperCase(), path, schema }] : [];
      }),
    );
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const send = async (endpoint: JsonEndpoint, body: string) => {
    const response = await fetch(
      `${controlPlane.httpUrl}${endpoint.path.replace(/\{[^}]+\}/g, 'fuzz-missing')}`,
      {
        method: endpoint.method,
        headers: { ...authHeaders(), 'content-type': 'application/json', accept: 'application/json' },
        body,
      },
    );
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed as ApiErrorResponseBody };
  };

  it('finds the JSON-body endpoints in the document', () => {
    // The ones every release has; the fuzzing below covers whatever the document lists.
    expect(endpoints.map((endpoint) => `${endpoint.method} ${endpoint.path}`)).toEqual(
      expect.arrayContaining([
        'POST /tokens',
        'POST /enrol',
        'POST /rollouts',
        'POST /webhooks',
        'PATCH /devices/{id}',
      ]),
    );
  });

  it('answers every generated invalid body of every endpoint with a 4xx naming the problem', async () => {
    const failures: string[] = [];
    let cases = 0;
    for (const [index, endpoint] of endpoints.entries()) {
      const result = await fc.check(
        fc.asyncProperty(invalidBodies(endpoint.schema, document), async (invalid) => {
          cases += 1;
          const response = await send(endpoint, invalid.body);
          const error = response.body.error as ApiErrorResponseBody['error'] | undefined;
          const problems: string[] = [];
          const oversized = Buffer.byteLength(invalid.body) > BODY_LIMIT_BYTES;
          if (oversized && response.status !== 413)
            problems.push(`status ${response.status} for an oversized body`);
          if (response.status < 400 || response.status >= 500) problems.push(`status ${response.status}`);
          if (
            error?.status !== response.status ||
            typeof error.message !== 'string' ||
            error.message === ''
          ) {
            problems.push(`not the API error shape: ${JSON.stringify(response.body).slice(0, 200)}`);
          } else if (oversized && !/too large: the limit is \d+ bytes/.test(error.message)) {
            problems.push(`the 413 does not state the limit: ${error.message}`);
          } else if (!oversized && invalid.names !== undefined && !error.message.includes(invalid.names)) {
            problems.push(`message does not name ${invalid.names}: ${truncate(error.message, 300)}`);
          }
          return problems.length === 0
            ? true
            : Promise.reject(
                new Error(
                  `${endpoint.method} ${endpoint.path}, ${invalid.what} (${truncate(invalid.body, 120)}): ${problems.join('; ')}`,
                ),
              );
        }),
        { numRuns: RUNS_PER_ENDPOINT, seed: FUZZ_SEED + index },
      );
      if (result.failed) {
        const error =
          result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
        failures.push(`${error} (fast-check seed ${result.seed}, path "${result.counterexamplePath ?? ''}")`);
      }
    }
    expect(failures).toEqual([]);
    expect(cases).toBeGreaterThanOrEqual(endpoints.length * RUNS_PER_ENDPOINT);
    const health = await apiRequest(controlPlane.httpUrl, 'GET', '/health', { token: null });
    expect(health.status).toBe(200);
  }, 120_000);

  it('refuses a body larger than the limit with 413 and stays healthy', async () => {
    const huge = await send(
      { method: 'POST', path: '/tokens', schema: {} },
      JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024), role: 'viewer' }),
    );
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(huge.body.error.message).toMatch(/too large/i);
    const health = await apiRequest<{ status: string }>(controlPlane.httpUrl, 'GET', '/health', {
      token: null,
    });
    expect(health.status).toBe(200);
  });
});
