import { generateKeyPairSync } from 'node:crypto';
import {
  buildEngineParametersSchema,
  calibrationCacheFileName,
  canonicalEngineBuildBytes,
  decodeMessage,
  encodeMessage,
  parseJobDocument,
  signEngineBuild,
  TopicScheme,
  trtexecFlagValue,
  verifyEngineBuildSignature,
  type BuildEngineParameters,
  type MessageKind,
} from '../src';
import { addressOf, DELETE, validJson, withField } from './fixtures';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const CACHE_KEY = 'c'.repeat(64);

function buildParameters(overrides: Partial<BuildEngineParameters> = {}): BuildEngineParameters {
  const unsigned = {
    modelVersionId: '0b6f3f43-0c1e-4d5e-9a61-2f1c7f0e9a10',
    cacheKey: CACHE_KEY,
    target: { gpuArch: 'sm_53', tensorrt: '8.2', jetpack: '4.6.1', precision: 'fp16' as const },
    source: {
      format: 'onnx' as const,
      sha256: 'a'.repeat(64),
      sizeBytes: 63_000_000,
      url: `http://fleet.example:3000/artifacts/${'a'.repeat(64)}`,
    },
    trtexecArgs: ['--onnx=model.onnx', `--saveEngine=./${CACHE_KEY}.engine`, '--workspace=256', '--fp16'],
    uploadUrl: `http://fleet.example:3000/engine-builds/${CACHE_KEY}/engine`,
    ...overrides,
  };
  return { ...unsigned, signature: signEngineBuild(unsigned, privateKey) };
}

const parse = (parameters: unknown) =>
  parseJobDocument({ operation: 'build-engine', parameters: parameters as Record<string, unknown> });

describe('build-engine job parameters', () => {
  it('types a well-formed order', () => {
    const parameters = buildParameters();
    expect(parse(parameters)).toEqual({ ok: true, document: { operation: 'build-engine', parameters } });
    expect(trtexecFlagValue(parameters.trtexecArgs, '--saveEngine')).toBe(`./${CACHE_KEY}.engine`);
    expect(trtexecFlagValue(parameters.trtexecArgs, '--calib')).toBeUndefined();
  });

  it.each<[string, string[], string]>([
    ['a flag outside the plan', ['--plugins=libevil.so'], '"--plugins" is not one of'],
    ['an absolute model path', ['--onnx=/etc/passwd'], '--onnx must name a file in the build directory'],
    ['a parent directory', ['--saveEngine=../x.engine'], '--saveEngine must name a file in the build'],
    ['a value on a switch', ['--fp16=yes'], '--fp16 takes no value'],
    ['a bad workspace', ['--workspace=0'], '--workspace has an invalid value "0"'],
  ])('refuses %s, naming the argument', (_what, extra, detail) => {
    const parameters = buildParameters();
    const trtexecArgs = [
      ...parameters.trtexecArgs.filter((a) => !a.startsWith(extra[0]?.split('=')[0] ?? '')),
      ...extra,
    ];
    const result = parse({ ...parameters, trtexecArgs });
    expect(result).toMatchObject({ ok: false, reason: 'invalid-parameters' });
    expect(result.ok ? '' : result.detail).toMatch(/parameters\.trtexecArgs\[\d+\]: /);
    expect(result.ok ? '' : result.detail).toContain(detail);
  });

  it('needs exactly one model and one engine file', () => {
    const parameters = buildParameters();
    const missing = parse({ ...parameters, trtexecArgs: ['--onnx=model.onnx', '--fp16'] });
    expect(missing.ok ? '' : missing.detail).toContain('--saveEngine=<file> is missing');
    const twice = parse({ ...parameters, trtexecArgs: [...parameters.trtexecArgs, '--onnx=other.onnx'] });
    expect(twice.ok ? '' : twice.detail).toContain('--onnx is given twice');
  });

  it('keeps the precision and the --fp16 switch consistent', () => {
    const parameters = buildParameters();
    const result = parse({ ...parameters, target: { ...parameters.target, precision: 'fp32' } });
    expect(result.ok ? '' : result.detail).toContain(
      'parameters.trtexecArgs: --fp16 must be given exactly when the precision is fp16 (precision fp32)',
    );
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a precision TensorRT builds do not have', { precision: 'int4' }, 'parameters.target.precision:'],
    ['a GPU arch that is not sm_NN', { gpuArch: 'maxwell' }, 'parameters.target.gpuArch: GPU arch must look'],
    ['a patch-level TensorRT', { tensorrt: '8.2.1' }, 'parameters.target.tensorrt: TensorRT version must'],
  ])('refuses %s', (_what, change, detail) => {
    const parameters = buildParameters();
    const result = parse({ ...parameters, target: { ...parameters.target, ...change } });
    expect(result.ok ? '' : result.detail).toContain(detail);
  });

  it('refuses a source that is not ONNX with a digest and an http(s) URL', () => {
    const parameters = buildParameters();
    expect(
      buildEngineParametersSchema.safeParse({
        ...parameters,
        source: { ...parameters.source, format: 'caffe' },
      }).success,
    ).toBe(false);
    const result = parse({ ...parameters, source: { ...parameters.source, url: 'file:///model.onnx' } });
    expect(result.ok ? '' : result.detail).toContain('parameters.source.url: must be an http(s) URL');
    const bad = parse({ ...parameters, cacheKey: 'C'.repeat(64) });
    expect(bad.ok ? '' : bad.detail).toContain('parameters.cacheKey: must be 64 lower-case hex digits');
  });
});

const CALIBRATION_SHA = 'e'.repeat(64);

/** A signed int8 order for a Xavier (sm_72) with its calibration cache. */
function int8Parameters(overrides: Partial<BuildEngineParameters> = {}): BuildEngineParameters {
  const base = buildParameters();
  const unsigned = {
    ...base,
    target: { gpuArch: 'sm_72', tensorrt: '8.2', jetpack: '4.6.1', precision: 'int8' as const },
    calibrationCache: {
      format: 'tensorrt-calibration-cache' as const,
      sha256: CALIBRATION_SHA,
      sizeBytes: 2_048,
      url: `http://fleet.example:3000/engine-builds/${CACHE_KEY}/calibration-cache`,
    },
    trtexecArgs: [
      '--onnx=model.onnx',
      `--saveEngine=./${CACHE_KEY}.engine`,
      '--workspace=256',
      '--int8',
      `--calib=${calibrationCacheFileName(CALIBRATION_SHA)}`,
    ],
    ...overrides,
  };
  delete (unsigned as Partial<BuildEngineParameters>).signature;
  return { ...unsigned, signature: signEngineBuild(unsigned, privateKey) };
}

describe('int8 build-engine orders (calibration cache)', () => {
  it('types an int8 order that carries its calibration cache and passes --int8 --calib=<its file>', () => {
    const parameters = int8Parameters();
    expect(parse(parameters)).toEqual({ ok: true, document: { operation: 'build-engine', parameters } });
    expect(calibrationCacheFileName(CALIBRATION_SHA)).toBe(`calibration-${CALIBRATION_SHA}.cache`);
    expect(trtexecFlagValue(parameters.trtexecArgs, '--calib')).toBe(`calibration-${CALIBRATION_SHA}.cache`);
    const dotted = int8Parameters({
      trtexecArgs: [...parameters.trtexecArgs.slice(0, 4), `--calib=./calibration-${CALIBRATION_SHA}.cache`],
    });
    expect(parse(dotted).ok).toBe(true);
  });

  it('leaves fp16 and fp32 orders as they were: no calibration cache, same canonical bytes', () => {
    const parameters = buildParameters();
    expect(parameters).not.toHaveProperty('calibrationCache');
    const parsed = parse(parameters);
    expect(parsed.ok && parsed.document.parameters).not.toHaveProperty('calibrationCache');
    expect(canonicalEngineBuildBytes(parameters).toString()).not.toContain('calibration');
  });

  const withoutCache = (): BuildEngineParameters => {
    const { calibrationCache: _dropped, ...rest } = int8Parameters();
    return rest;
  };

  it.each<[string, () => unknown, string]>([
    [
      'an int8 order without its calibration cache',
      withoutCache,
      'parameters.calibrationCache: an int8 build needs its TensorRT calibration cache (format, sha256, sizeBytes, url)',
    ],
    [
      'a calibration cache on an fp16 order',
      () => ({ ...buildParameters(), calibrationCache: int8Parameters().calibrationCache }),
      'parameters.calibrationCache: a calibration cache is only for int8 builds (precision fp16)',
    ],
    [
      'an int8 order without --int8',
      () => {
        const p = int8Parameters();
        return { ...p, trtexecArgs: p.trtexecArgs.filter((a) => a !== '--int8') };
      },
      'parameters.trtexecArgs: --int8 must be given exactly when the precision is int8 (precision int8)',
    ],
    [
      '--int8 on an fp32 order',
      () => {
        const p = buildParameters();
        return {
          ...p,
          target: { ...p.target, precision: 'fp32' },
          trtexecArgs: ['--onnx=model.onnx', '--saveEngine=e.engine', '--int8'],
        };
      },
      'parameters.trtexecArgs: --int8 must be given exactly when the precision is int8 (precision fp32)',
    ],
    [
      '--calib on an fp16 order',
      () => {
        const p = buildParameters();
        return { ...p, trtexecArgs: [...p.trtexecArgs, `--calib=calibration-${CALIBRATION_SHA}.cache`] };
      },
      'parameters.trtexecArgs: --calib is only for int8 builds (precision fp16)',
    ],
    [
      'an int8 order whose --calib names another file than its cache',
      () => {
        const p = int8Parameters();
        return { ...p, trtexecArgs: [...p.trtexecArgs.slice(0, 4), '--calib=other.cache'] };
      },
      `parameters.trtexecArgs: an int8 build must pass --calib=calibration-${CALIBRATION_SHA}.cache (the calibration cache's sha256), got --calib=other.cache`,
    ],
    [
      'an int8 order without --calib',
      () => {
        const p = int8Parameters();
        return { ...p, trtexecArgs: p.trtexecArgs.slice(0, 4) };
      },
      'got no --calib',
    ],
    [
      'a --calib path outside the build directory',
      () => {
        const p = int8Parameters();
        return { ...p, trtexecArgs: [...p.trtexecArgs.slice(0, 4), '--calib=/etc/calibration.cache'] };
      },
      '--calib must name a file in the build directory',
    ],
    [
      'a calibration cache of another format',
      () => {
        const p = int8Parameters();
        return { ...p, calibrationCache: { ...p.calibrationCache, format: 'onnx' } };
      },
      'parameters.calibrationCache.format:',
    ],
    [
      'a calibration cache above 16 MiB',
      () => {
        const p = int8Parameters();
        return { ...p, calibrationCache: { ...p.calibrationCache, sizeBytes: 16 * 1024 * 1024 + 1 } };
      },
      'parameters.calibrationCache.sizeBytes:',
    ],
    [
      'a calibration cache without an http(s) URL',
      () => {
        const p = int8Parameters();
        return { ...p, calibrationCache: { ...p.calibrationCache, url: 'file:///calibration.cache' } };
      },
      'parameters.calibrationCache.url: must be an http(s) URL',
    ],
  ])('refuses %s, naming the field', (_what, make, detail) => {
    const result = parse(make());
    expect(result).toMatchObject({ ok: false, reason: 'invalid-parameters' });
    expect(result.ok ? '' : result.detail).toContain(detail);
  });

  it('binds the calibration cache to the signature through the --calib file name', () => {
    const parameters = int8Parameters();
    expect(verifyEngineBuildSignature(parameters, parameters.signature, publicKey)).toBe(true);
    const otherCache = 'f'.repeat(64);
    const swapped = {
      ...parameters,
      calibrationCache: { ...parameters.calibrationCache!, sha256: otherCache },
      trtexecArgs: [...parameters.trtexecArgs.slice(0, 4), `--calib=${calibrationCacheFileName(otherCache)}`],
    };
    expect(parse(swapped).ok).toBe(true);
    expect(verifyEngineBuildSignature(swapped, parameters.signature, publicKey)).toBe(false);
  });
});

describe('build-engine signatures', () => {
  it('signs a canonical order: context line, fixed key order, jetpack null when absent, no URLs', () => {
    const parameters = buildParameters({
      target: { gpuArch: 'sm_72', tensorrt: '8.5', precision: 'fp32' },
      trtexecArgs: ['--saveEngine=e.engine', '--onnx=m.onnx'],
    });
    expect(canonicalEngineBuildBytes(parameters).toString()).toBe(
      'emofleet-engine-build/v1\n' +
        `{"cacheKey":"${CACHE_KEY}","modelVersionId":"${parameters.modelVersionId}",` +
        `"source":{"format":"onnx","sha256":"${'a'.repeat(64)}","sizeBytes":63000000},` +
        '"target":{"gpuArch":"sm_72","jetpack":null,"precision":"fp32","tensorrt":"8.5"},' +
        '"trtexecArgs":["--saveEngine=e.engine","--onnx=m.onnx"]}',
    );
  });

  it('verifies with the public key; the URLs may change without re-signing', () => {
    const parameters = buildParameters();
    expect(verifyEngineBuildSignature(parameters, parameters.signature, publicKey)).toBe(true);
    const mirrored = {
      ...parameters,
      uploadUrl: 'https://other.example/up',
      source: { ...parameters.source, url: 'https://mirror.example/m' },
    };
    expect(verifyEngineBuildSignature(mirrored, parameters.signature, publicKey)).toBe(true);
  });

  it.each<[string, (p: BuildEngineParameters) => BuildEngineParameters]>([
    ['the arguments', (p) => ({ ...p, trtexecArgs: [...p.trtexecArgs, '--explicitBatch'] })],
    ['the source digest', (p) => ({ ...p, source: { ...p.source, sha256: 'b'.repeat(64) } })],
    ['the GPU arch', (p) => ({ ...p, target: { ...p.target, gpuArch: 'sm_62' } })],
    ['the cache key', (p) => ({ ...p, cacheKey: 'd'.repeat(64) })],
  ])('fails when %s changed', (_what, change) => {
    const parameters = buildParameters();
    expect(verifyEngineBuildSignature(change(parameters), parameters.signature, publicKey)).toBe(false);
  });

  it('fails, without throwing, for another key or a malformed signature', () => {
    const parameters = buildParameters();
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verifyEngineBuildSignature(parameters, parameters.signature, other)).toBe(false);
    expect(verifyEngineBuildSignature(parameters, 'not base64 at all', publicKey)).toBe(false);
    expect(() =>
      signEngineBuild(parameters, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    ).toThrow('Engine build signing needs an ed25519 key, got ec');
  });
});

describe('engine build fields added compatibly to v1', () => {
  const topics = new TopicScheme();
  const decode = (kind: MessageKind, json: Record<string, unknown>) =>
    decodeMessage(topics.topicFor(addressOf(kind)), Buffer.from(JSON.stringify(json)), { topics });
  const engine = {
    sha256: 'e'.repeat(64),
    sizeBytes: 9_000_000,
    buildMs: 184_000,
    tensorrtVersion: '8.2.1',
    timing: {
      throughputQps: 61.5,
      latencyMs: { min: 15.9, max: 18.2, mean: 16.2, median: 16.1, p99: 17.9 },
      gpuComputeMs: { min: 15.6, max: 17.8, mean: 15.9, median: 15.8, p90: 16.0, p95: 16.1, p99: 17.5 },
      totalHostWalltimeSeconds: 3.01,
    },
  };

  it.each<[MessageKind, (string | number)[], unknown]>([
    ['job-update', ['statusDetails', 'engine'], engine],
    ['job-update', ['statusDetails', 'logTail'], '[I] Engine built in 181.3 sec.\n&&&& PASSED'],
    ['job-update', ['statusDetails', 'buildStage'], 'BUILDING'],
    ['job-update', ['statusDetails', 'buildStage'], 'A_STAGE_OF_THE_FUTURE'],
    ['birth', ['capabilities', 'gpuArch'], 'sm_53'],
    ['birth', ['capabilities', 'engineBuilder'], true],
  ])('%s keeps %j = %j', (kind, path, value) => {
    const decoded = decode(kind, withField(validJson(kind), path, value));
    expect(decoded.ok).toBe(true);
    let node: unknown = decoded.ok ? decoded.message : undefined;
    for (const key of path) node = (node as Record<string | number, unknown>)[key];
    expect(node).toEqual(value);
  });

  it.each<[MessageKind, (string | number)[]]>([
    ['job-update', ['statusDetails', 'engine']],
    ['birth', ['capabilities', 'gpuArch']],
    ['birth', ['capabilities', 'engineBuilder']],
  ])('%s without %j (an older agent) still decodes and encodes', (kind, path) => {
    const json = withField(validJson(kind), path, DELETE);
    expect(decode(kind, json).ok).toBe(true);
    expect(() => encodeMessage(kind, json as never)).not.toThrow();
  });

  it.each<[MessageKind, (string | number)[], unknown, string]>([
    ['job-update', ['statusDetails', 'logTail'], 'x'.repeat(4097), 'statusDetails.logTail:'],
    ['job-update', ['statusDetails', 'buildStage'], 'building', 'statusDetails.buildStage: build stage must'],
    [
      'job-update',
      ['statusDetails', 'engine'],
      { ...engine, sizeBytes: 0 },
      'statusDetails.engine.sizeBytes:',
    ],
    [
      'job-update',
      ['statusDetails', 'engine'],
      { ...engine, timing: { latencyMs: { min: -1, max: 1, mean: 1, median: 1 } } },
      'statusDetails.engine.timing.latencyMs.min:',
    ],
    ['birth', ['capabilities', 'gpuArch'], '53', 'capabilities.gpuArch: GPU arch must look like sm_53'],
  ])('%s rejects a bad %j, naming it', (kind, path, value, detail) => {
    const decoded = decode(kind, withField(validJson(kind), path, value));
    expect(decoded).toMatchObject({ ok: false, reason: 'schema-violation' });
    expect(decoded.ok ? '' : decoded.detail).toContain(detail);
  });
});
