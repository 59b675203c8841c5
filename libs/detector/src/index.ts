export { createDetector, availableBackends } from './create-detector';
export { Detector } from './detector';
export { DetectorError, type DetectorErrorCode } from './detector-error';
export type {
  Backend,
  Box,
  CreateDetectorOptions,
  Detection,
  DetectOptions,
  DetectorInfo,
  FrameDescription,
  LayerInfo,
  PixelFormat,
  TensorShape,
} from './types';
