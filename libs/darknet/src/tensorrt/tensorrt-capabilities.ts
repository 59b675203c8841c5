/**
 * What each TensorRT release and each Jetson GPU architecture can do, as data. Build planning looks
 * everything up here; nothing else in the code branches on version numbers.
 *
 * Sources:
 * - JetPack ↔ TensorRT versions: JetPack release notes / archive,
 *   https://developer.nvidia.com/embedded/jetpack-archive
 * - Caffe and UFF parsers deprecated in 7.x/8.x and removed in 10.0 (`--deploy`, `--model`, `--output`, `--uff`
 *   gone from trtexec): https://docs.nvidia.com/deeplearning/tensorrt/latest/getting-started/release-notes-10/10.0.0-ea.html
 *   and https://docs.nvidia.com/deeplearning/tensorrt/10.16.1/api/tensorrt-8x-to-10x-trtexec.html
 * - ONNX parser shipped from TensorRT 4.0.1 ("TensorRT can now parse the network definitions in ONNX format"):
 *   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-843/release-notes/tensorrt-4.html
 * - Leaky ReLU as a native activation (ActivationType::kLEAKY_RELU) since TensorRT 5.1:
 *   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-825/release-notes/tensorrt-5.html (5.1.x notes)
 * - `IBuilderConfig::setMaxWorkspaceSize` deprecated in 8.3 for `setMemoryPoolLimit`; trtexec takes
 *   `--memPoolSize=workspace:<MiB>` from 8.4 and drops `--workspace` in 10.0:
 *   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-843/api/c_api/deprecated.html
 * - ONNX models need an explicit-batch network; trtexec 6.x/7.x require `--explicitBatch` for that, 8.x+ implies it:
 *   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-713/developer-guide/index.html ("Explicit vs
 *   implicit batch")
 * - Precision per compute capability (hardware precision matrix):
 *   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-825/support-matrix/index.html#hardware-precision-matrix
 * - Engines are not portable across TensorRT versions or GPU architectures (same support matrix, "Serialized
 *   engines are not portable across platforms or TensorRT versions").
 */

export type ModelFormat = 'onnx' | 'caffe';
export type Precision = 'fp32' | 'fp16' | 'int8';
export type WorkspaceFlag = 'workspace' | 'memPoolSize';

export interface TensorRtRelease {
  /** `major.minor` as the release is known. */
  readonly version: string;
  /** JetPack releases that ship it. */
  readonly jetpack: readonly string[];
  readonly formats: readonly ModelFormat[];
  readonly nativeLeakyRelu: boolean;
  /** How trtexec takes the builder workspace limit. */
  readonly workspaceFlag: WorkspaceFlag;
  /** trtexec needs `--explicitBatch` for ONNX. */
  readonly onnxNeedsExplicitBatchFlag: boolean;
}

export const TENSORRT_RELEASES: readonly TensorRtRelease[] = [
  {
    version: '4.0',
    jetpack: ['3.3'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: false,
    workspaceFlag: 'workspace',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '5.0',
    jetpack: ['4.2'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: false,
    workspaceFlag: 'workspace',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '5.1',
    jetpack: ['4.2.1', '4.2.2', '4.2.3'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'workspace',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '6.0',
    jetpack: ['4.3'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'workspace',
    onnxNeedsExplicitBatchFlag: true,
  },
  {
    version: '7.1',
    jetpack: ['4.4', '4.4.1', '4.5', '4.5.1'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'workspace',
    onnxNeedsExplicitBatchFlag: true,
  },
  {
    version: '8.0',
    jetpack: ['4.6'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'workspace',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '8.2',
    jetpack: ['4.6.1', '4.6.2', '4.6.3', '4.6.4', '4.6.5', '4.6.6'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'workspace',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '8.4',
    jetpack: ['5.0.2'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'memPoolSize',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '8.5',
    jetpack: ['5.1', '5.1.1', '5.1.2', '5.1.3', '5.1.4'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'memPoolSize',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '8.6',
    jetpack: ['6.0'],
    formats: ['onnx', 'caffe'],
    nativeLeakyRelu: true,
    workspaceFlag: 'memPoolSize',
    onnxNeedsExplicitBatchFlag: false,
  },
  {
    version: '10.3',
    jetpack: ['6.1', '6.2'],
    formats: ['onnx'],
    nativeLeakyRelu: true,
    workspaceFlag: 'memPoolSize',
    onnxNeedsExplicitBatchFlag: false,
  },
];

export interface GpuArchitecture {
  /** CUDA arch name, e.g. `sm_53`. */
  readonly arch: string;
  readonly devices: readonly string[];
  /** Fast FP16 (TensorRT builds FP16 kernels for it). */
  readonly fp16: boolean;
  /** INT8 kernels (DP4A or tensor cores). */
  readonly int8: boolean;
  /** Oldest JetPack release that supports these devices. */
  readonly firstJetpack: string;
  /** Newest JetPack release that supports these devices (undefined: still current). */
  readonly lastJetpack?: string;
}

export const GPU_ARCHITECTURES: readonly GpuArchitecture[] = [
  {
    arch: 'sm_53',
    devices: ['Jetson TX1', 'Jetson Nano'],
    fp16: true,
    int8: false,
    firstJetpack: '2.0',
    lastJetpack: '4.6.6',
  },
  {
    arch: 'sm_62',
    devices: ['Jetson TX2'],
    fp16: true,
    int8: false,
    firstJetpack: '3.0',
    lastJetpack: '4.6.6',
  },
  {
    arch: 'sm_72',
    devices: ['Jetson AGX Xavier', 'Jetson Xavier NX'],
    fp16: true,
    int8: true,
    firstJetpack: '4.1',
    lastJetpack: '5.1.4',
  },
  {
    arch: 'sm_87',
    devices: ['Jetson AGX Orin', 'Jetson Orin NX', 'Jetson Orin Nano'],
    fp16: true,
    int8: true,
    firstJetpack: '5.0',
  },
];
