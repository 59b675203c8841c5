export {
  ActivationHistogram,
  entropyRange,
  HISTOGRAM_BINS,
  minMaxRange,
  percentileRange,
  quantizationError,
  type RealRange,
  uint8Quantization,
  widenedRange,
} from './activation-ranges';
export {
  calibrateInt8,
  type CalibratedTensors,
  type CalibrationFrame,
  type CalibrationMethod,
  type CalibrationOptions,
  type CalibrationResult,
  defaultFp32Layers,
  type LayerCalibration,
  type LayerSensitivity,
  layerSensitivity,
  planWithOnly,
} from './calibrate';
export { labelWithFp32, type LabelledFrame, outputAgreement, topClass } from './int8-evaluation';
export {
  checkPlanMatches,
  type Int8InputQuantization,
  type Int8Plan,
  type Int8PlanLayer,
  int8ConvolutionsOf,
  int8LayersOf,
  INT8_PLAN_FORMAT,
  parseInt8Plan,
  type RangeMethod,
  sha256Hex,
} from './int8-plan';
