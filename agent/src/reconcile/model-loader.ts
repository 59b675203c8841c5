import { type ModelManifest } from '@emofleet/protocol';
import { loadNativeDetector, SyntheticDetector, type DetectorAdapter } from '../detector';

/** Turns an installed bundle directory into a running detector; throws with a reason when it cannot. */
export type ModelLoader = (bundleDirectory: string, model: ModelManifest) => Promise<DetectorAdapter>;

/** The production loader: darknet bundles in the native detector; other formats are refused with a reason. */
export function nativeModelLoader(options: { threads?: number; scoreThreshold?: number } = {}): ModelLoader {
  return async (directory, model) => {
    switch (model.format) {
      case 'darknet-bundle':
        return loadNativeDetector(directory, model.modelId, options);
      case 'onnx-bundle':
      case 'tensorrt-engine':
        throw new Error(`model format ${model.format} is not supported by this agent (darknet-bundle only)`);
    }
  };
}

/** The simulator's loader: any darknet bundle becomes a synthetic detector (no inference cost). */
export function syntheticModelLoader(
  options: { latencyMs?: number; framesPerExpression?: number } = {},
): ModelLoader {
  return (_directory, model) => {
    if (model.format !== 'darknet-bundle') {
      return Promise.reject(
        new Error(`model format ${model.format} is not supported by this agent (darknet-bundle only)`),
      );
    }
    return Promise.resolve(new SyntheticDetector({ modelId: model.modelId, ...options }));
  };
}
