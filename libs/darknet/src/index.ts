export * from './network/types';
export { CfgError } from './cfg/cfg-error';
export { readCfgText } from './cfg/read-cfg-text';
export { serialiseCfg } from './cfg/serialise-cfg';
export { buildNetwork, parseCfg, loadCfg } from './network/parse-network';
export { NET_PASSTHROUGH_KEYS } from './network/net-section';
export { WeightsError } from './weights/weights-error';
export {
  headerByteLength,
  isWeightedLayer,
  layerWeightsLayout,
  networkWeightsLayout,
  type LayerWeightsLayout,
} from './weights/weights-layout';
export { readWeights, loadWeights } from './weights/read-weights';
export { serialiseWeights, saveWeights } from './weights/write-weights';
export { randomWeights, CURRENT_WEIGHTS_HEADER } from './weights/random-weights';
export { smallExpressionCfg, smallExpressionModel } from './weights/small-expression-network';
export { layerCost, networkCost, type LayerCost } from './analysis/layer-cost';
export {
  inspectNetwork,
  formatInspectTable,
  type InspectReport,
  type InspectedLayer,
} from './analysis/inspect';
export {
  replace3x3With1x1,
  RETRAIN_NOTICE,
  TransformError,
  type Replace3x3Result,
} from './transforms/replace-3x3-with-1x1';
export { foldBatchNorm, DARKNET_BATCH_NORM_EPSILON } from './transforms/fold-batch-norm';
export * from './tensorrt/tensorrt-capabilities';
export {
  planEngineBuild,
  engineCacheKey,
  BuildPlanError,
  type BuildModel,
  type BuildPlan,
  type BuildTarget,
} from './tensorrt/build-plan';
export { writeFileAtomic } from './util/write-file-atomic';
export { SeededRandom } from './util/seeded-random';
export { ExportError } from './export/export-error';
export { forwardReference, type RawTensor, type ReferenceResult } from './reference/forward';
export { rawOutputs, type RawOutput } from './reference/graph';
export { darknetReorg } from './reference/reorg';
export { exportOnnx, saveOnnx, ONNX_OPSET } from './export/onnx/export-onnx';
export { exportCaffe, saveCaffe, caffePaths, type CaffeExport } from './export/caffe/export-caffe';
export { compareTensors, type Difference } from './verify/compare';
export {
  verifyExport,
  verifyNetworkExport,
  exportedModelAt,
  seededInputs,
  formatVerifyReport,
  DEFAULT_VERIFY_TOLERANCE,
  type ExportedModel,
  type OutputDifference,
  type VerifyOptions,
  type VerifyReport,
} from './verify/verify-export';
export {
  runOpenCvForward,
  openCvAvailable,
  type OpenCvCase,
  type OpenCvOutput,
  type OpenCvResult,
} from './verify/opencv-runner';
export {
  importFaceapiModels,
  convertFaceapiModels,
  DETECTOR_BASENAME,
  EXPRESSION_BASENAME,
  IMPORT_SUMMARY_FILE,
  type FaceapiImport,
  type ImportedNetwork,
  type InputPreprocessing,
} from './import/faceapi/import-faceapi';
export { FaceapiImportError } from './import/faceapi/faceapi-import-error';
export {
  FACEAPI_DEMO_VIDEO,
  faceapiDemoVideoArguments,
  locateFaceapiPackage,
  type FaceapiPackage,
} from './import/faceapi/faceapi-demo';
export { readTfjsWeights, type TfjsTensor, type TfjsWeightMap } from './import/faceapi/tfjs-weights';
export { TINY_FACE_DETECTOR } from './import/faceapi/tiny-face-detector';
export { FACE_EXPRESSION_NET } from './import/faceapi/face-expression-net';
export type { DarknetModel } from './import/faceapi/darknet-model-builder';
export { PAPER_EXPRESSION_MAPPING, type ExpressionMapping } from './labels/expression-mapping';
export {
  exportQdqOnnx,
  saveQdqOnnx,
  quantizePerChannelInt8,
  type PerChannelInt8Weights,
  type QdqConvolution,
  type Uint8Quantization,
} from './export/onnx/export-qdq-onnx';
export {
  type ActivationRange,
  CalibrationCacheError,
  float32BigEndianHex,
  type NetworkActivationRanges,
  onnxTensorRanges,
  tensorRtCalibrationCache,
  tensorRtVersionNumber,
} from './tensorrt/calibration-cache';
