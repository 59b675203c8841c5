import { UnprocessableEntityException } from '@nestjs/common';
import { buildEngineParametersSchema, signEngineBuild } from '@emofleet/protocol';
import { generateKeyPairSync } from 'node:crypto';
import {
  buildOrder,
  calibrationCacheTensorRt,
  calibrationSha256Of,
  int8Refusal,
  planBuild,
} from './engine-build-plan';

const ONNX = 'a'.repeat(64);
const CACHE = { sha256: 'b'.repeat(64), sizeBytes: 514 };
const XAVIER = { gpuArch: 'sm_72', jetpack: '4.6.1', workspaceMiB: 256 };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UnprocessableEntityException) return error.message;
    throw error;
  }
  throw new Error('expected a 422');
}

describe('int8 engine build plans', () => {
  it('passes --int8 --calib=<the cache, by sha256> and keys the build by precision and cache', () => {
    const int8 = planBuild({ ...XAVIER, precision: 'int8' }, ONNX, CACHE);
    expect(int8.plan.argv).toEqual([
      'trtexec',
      '--onnx=model.onnx',
      `--saveEngine=./${int8.cacheKey}.engine`,
      '--workspace=256',
      '--int8',
      `--calib=calibration-${CACHE.sha256}.cache`,
    ]);
    expect(int8.target).toEqual({
      gpuArch: 'sm_72',
      tensorrt: '8.2',
      jetpack: '4.6.1',
      precision: 'int8',
      workspaceMiB: 256,
    });
    expect(calibrationSha256Of(int8.plan)).toBe(CACHE.sha256);
    const fp16 = planBuild({ ...XAVIER, precision: 'fp16' }, ONNX);
    const otherCache = planBuild({ ...XAVIER, precision: 'int8' }, ONNX, {
      ...CACHE,
      sha256: 'c'.repeat(64),
    });
    expect(new Set([int8.cacheKey, fp16.cacheKey, otherCache.cacheKey]).size).toBe(3);
    expect(calibrationSha256Of(fp16.plan)).toBeUndefined();
  });

  it('makes an order the protocol accepts, with the calibration cache only for int8', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const planned = planBuild({ ...XAVIER, precision: 'int8' }, ONNX, CACHE);
    const build = { ...planned, versionId: '0b6f3f43-0c1e-4d5e-9a61-2f1c7f0e9a10' };
    const order = buildOrder(build, { sha256: ONNX, sizeBytes: 1000 }, CACHE);
    expect(order.calibrationCache).toEqual({ format: 'tensorrt-calibration-cache', ...CACHE });
    const parameters = {
      ...order,
      source: { ...order.source, url: `http://cp.example/artifacts/${ONNX}` },
      calibrationCache: {
        ...CACHE,
        format: 'tensorrt-calibration-cache' as const,
        url: 'http://cp.example/c',
      },
      uploadUrl: 'http://cp.example/up',
      signature: signEngineBuild(order, privateKey),
    };
    expect(buildEngineParametersSchema.safeParse(parameters).success).toBe(true);
    const fp16 = planBuild({ ...XAVIER, precision: 'fp16' }, ONNX);
    expect(
      buildOrder({ ...fp16, versionId: build.versionId }, { sha256: ONNX, sizeBytes: 1000 }),
    ).not.toHaveProperty('calibrationCache');
  });

  it('refuses int8 on archs without INT8 first, then a missing cache', () => {
    expect(int8Refusal('sm_72')).toBeUndefined();
    expect(int8Refusal('sm_87')).toBeUndefined();
    expect(int8Refusal('sm_99')).toBeUndefined();
    expect(refusal(() => planBuild({ ...XAVIER, gpuArch: 'sm_53', precision: 'int8' }, ONNX))).toMatch(
      /^precision: int8 is not available on sm_53 \(Jetson TX1, Jetson Nano\): TensorRT has INT8 kernels from compute capability 6\.1 on, except 6\.2/,
    );
    expect(refusal(() => planBuild({ ...XAVIER, gpuArch: 'sm_62', precision: 'int8' }, ONNX, CACHE))).toMatch(
      /^precision: int8 is not available on sm_62 \(Jetson TX2\)/,
    );
    expect(refusal(() => planBuild({ ...XAVIER, precision: 'int8' }, ONNX))).toContain('quantize first');
  });

  it('reads the TensorRT release from a calibration cache header', () => {
    expect(calibrationCacheTensorRt('TRT-8201-EntropyCalibration2')).toBe('8.2');
    expect(calibrationCacheTensorRt('TRT-8502-EntropyCalibration2\r')).toBe('8.5');
    expect(calibrationCacheTensorRt('TRT-10300-EntropyCalibration2')).toBe('10.3');
    expect(calibrationCacheTensorRt('input: 3c010a14')).toBeUndefined();
  });
});
