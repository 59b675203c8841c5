import { BuildPlanError, engineCacheKey, planEngineBuild, TENSORRT_RELEASES, type BuildModel } from '../src';

const SHA = 'a'.repeat(64);
const CALIBRATION_SHA = 'b'.repeat(64);
const onnx: BuildModel = { format: 'onnx', path: 'models/yolov2-expression.onnx', sha256: SHA };
const caffe: BuildModel = {
  format: 'caffe',
  prototxt: 'm.prototxt',
  caffemodel: 'm.caffemodel',
  outputBlob: 'conv_30',
  sha256: SHA,
};

function planError(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BuildPlanError);
    return (error as Error).message;
  }
  throw new Error('expected a BuildPlanError');
}

describe('TensorRT build plans', () => {
  it('builds the TensorRT 8.2 ONNX FP16 command for a TX1', () => {
    const plan = planEngineBuild(
      { jetpack: '4.6.1', gpuArch: 'sm_53', precision: 'fp16', workspaceMiB: 1024 },
      onnx,
      '/var/engines',
    );
    expect(plan.release.version).toBe('8.2');
    expect(plan.cacheKey).toBe(engineCacheKey(SHA, 'sm_53', '8.2', 'fp16'));
    expect(plan.commandLine).toBe(
      `trtexec --onnx=models/yolov2-expression.onnx --saveEngine=/var/engines/${plan.cacheKey}.engine --workspace=1024 --fp16`,
    );
    expect(plan.notes[0]).toContain('only runs on sm_53');
  });

  it("uses Caffe's --deploy/--model/--output where the parser exists", () => {
    const plan = planEngineBuild(
      { tensorrt: '8.2.1', gpuArch: 'sm_53', precision: 'fp32', workspaceMiB: 256 },
      caffe,
    );
    expect(plan.argv).toEqual([
      'trtexec',
      '--deploy=m.prototxt',
      '--model=m.caffemodel',
      '--output=conv_30',
      `--saveEngine=./${plan.cacheKey}.engine`,
      '--workspace=256',
    ]);
  });

  it('switches to --memPoolSize from TensorRT 8.4 and adds --explicitBatch for ONNX on 7.x', () => {
    const orin = planEngineBuild(
      { tensorrt: '8.5', gpuArch: 'sm_87', precision: 'fp16', workspaceMiB: 2048 },
      onnx,
    );
    expect(orin.argv).toContain('--memPoolSize=workspace:2048');
    const legacy = planEngineBuild(
      { jetpack: '4.5.1', gpuArch: 'sm_53', precision: 'fp32', workspaceMiB: 64 },
      onnx,
    );
    expect(legacy.argv).toContain('--explicitBatch');
  });

  it('passes the INT8 calibration cache and keys the engine on it', () => {
    const target = { tensorrt: '8.5', gpuArch: 'sm_72', precision: 'int8' as const, workspaceMiB: 512 };
    const plan = planEngineBuild(
      { ...target, calibrationCache: { path: 'calib.cache', sha256: CALIBRATION_SHA } },
      onnx,
    );
    expect(plan.argv.slice(-2)).toEqual(['--int8', '--calib=calib.cache']);
    expect(plan.cacheKey).toBe(engineCacheKey(SHA, 'sm_72', '8.5', 'int8', CALIBRATION_SHA));
    expect(plan.cacheKey).not.toBe(engineCacheKey(SHA, 'sm_72', '8.5', 'int8'));
  });

  it('gives different keys for different arch, TensorRT version, precision or model', () => {
    const keys = new Set([
      engineCacheKey(SHA, 'sm_53', '8.2', 'fp16'),
      engineCacheKey(SHA, 'sm_62', '8.2', 'fp16'),
      engineCacheKey(SHA, 'sm_53', '8.0', 'fp16'),
      engineCacheKey(SHA, 'sm_53', '8.2', 'fp32'),
      engineCacheKey('c'.repeat(64), 'sm_53', '8.2', 'fp16'),
    ]);
    expect(keys.size).toBe(5);
  });

  it.each([
    [
      { tensorrt: '10.3', gpuArch: 'sm_87', precision: 'fp16', workspaceMiB: 1 },
      caffe,
      'TensorRT 10.3 cannot read caffe models',
    ],
    [
      {
        tensorrt: '8.2',
        gpuArch: 'sm_53',
        precision: 'int8',
        workspaceMiB: 1,
        calibrationCache: { path: 'c', sha256: CALIBRATION_SHA },
      },
      onnx,
      'sm_53 (Jetson TX1, Jetson Nano) has no INT8 support',
    ],
    [
      { tensorrt: '8.5', gpuArch: 'sm_72', precision: 'int8', workspaceMiB: 1 },
      onnx,
      'int8 needs a calibration cache',
    ],
    [
      { tensorrt: '8.5', gpuArch: 'sm_53', precision: 'fp16', workspaceMiB: 1 },
      onnx,
      'which does not support Jetson TX1',
    ],
    [
      { tensorrt: '8.2', gpuArch: 'sm_87', precision: 'fp16', workspaceMiB: 1 },
      onnx,
      'TensorRT 8.2 ships with JetPack 4.6.1/4.6.2/4.6.3/4.6.4/4.6.5/4.6.6, which does not support Jetson AGX Orin, Jetson Orin NX, Jetson Orin Nano (sm_87: JetPack 5.0+)',
    ],
    [
      { jetpack: '4.6', tensorrt: '8.2', gpuArch: 'sm_53', precision: 'fp16', workspaceMiB: 1 },
      onnx,
      'JetPack 4.6 ships TensorRT 8.0, not 8.2',
    ],
    [{ tensorrt: '9.9', gpuArch: 'sm_53', precision: 'fp16', workspaceMiB: 1 }, onnx, 'unknown TensorRT 9.9'],
    [
      { tensorrt: '8.2', gpuArch: 'sm_99', precision: 'fp16', workspaceMiB: 1 },
      onnx,
      "unknown GPU arch 'sm_99'",
    ],
    [
      { tensorrt: '8.2', gpuArch: 'sm_53', precision: 'fp16', workspaceMiB: 0 },
      onnx,
      'workspace must be a positive whole number of MiB',
    ],
    [
      { tensorrt: '8.2', gpuArch: 'sm_53', precision: 'fp16', workspaceMiB: 1 },
      { ...onnx, sha256: 'xyz' },
      "model sha256 'xyz' is not 64 hex digits",
    ],
  ] as const)('refuses %j', (target, model, message) => {
    expect(planError(() => planEngineBuild(target, model))).toContain(message);
  });

  it('has one row per TensorRT release with Caffe gone from 10 and leaky ReLU native from 5.1', () => {
    const byVersion = new Map(TENSORRT_RELEASES.map((release) => [release.version, release]));
    expect(byVersion.get('10.3')?.formats).toEqual(['onnx']);
    expect(byVersion.get('8.6')?.formats).toContain('caffe');
    expect(byVersion.get('5.0')?.nativeLeakyRelu).toBe(false);
    expect(byVersion.get('5.1')?.nativeLeakyRelu).toBe(true);
    expect(byVersion.size).toBe(TENSORRT_RELEASES.length);
  });

  it('quotes paths with spaces for the shell', () => {
    const plan = planEngineBuild(
      { tensorrt: '8.2', gpuArch: 'sm_53', precision: 'fp32', workspaceMiB: 8 },
      { ...onnx, path: "my models/it's.onnx" },
    );
    expect(plan.commandLine).toContain(`'--onnx=my models/it'\\''s.onnx'`);
  });
});
