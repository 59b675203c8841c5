export { createDetector, availableBackends } from './create-detector';
export { Detector } from './detector';
export { DetectorError, type DetectorErrorCode } from './detector-error';
export type {
  Backend,
  Box,
  Classification,
  ClassifierInfo,
  ClassifierOptions,
  CreateDetectorOptions,
  Detection,
  DetectOptions,
  DetectorInfo,
  FrameDescription,
  LayerInfo,
  LetterboxInput,
  NetworkInput,
  PadToSquareInput,
  PixelFormat,
  TensorShape,
  WinogradMode,
} from './types';
export * from './quantization';
