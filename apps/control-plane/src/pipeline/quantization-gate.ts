import {
  type CalibratedTensors,
  calibrateInt8,
  type CalibrationFrame,
  createDetector,
  type Detector,
  type Int8Plan,
  type NetworkInput,
} from '@emofleet/detector';

export interface QuantizationGateReport {
  passed: boolean;
  budgetPoints: number;
  /** Accuracy on the eval set (0..1) of the FP32 network and of the INT8 plan. */
  fp32Accuracy: number;
  int8Accuracy: number;
  /** fp32 - int8, in percentage points. */
  dropPoints: number;
  calibrationImages: number;
  int8Kernel: string | null;
  layers: Array<{ index: number; precision: 'int8' | 'fp32'; method?: string }>;
  plan: Int8Plan;
  /** Every tensor's calibrated range: what the TensorRT calibration cache is written from. */
  tensors: CalibratedTensors;
}

/**
 * Calibrates an INT8 plan on `calibration` and measures the eval-set accuracy of the FP32 network and of the plan
 * with the same function; the plan passes when it loses at most `budgetPoints` percentage points.
 */
export async function quantizeWithAccuracyGate(
  model: { cfg: string; weights: Buffer; names?: readonly string[]; input?: NetworkInput; threads: number },
  calibration: readonly CalibrationFrame[],
  measureAccuracy: (detector: Detector) => Promise<number | null>,
  budgetPoints: number,
  log: (line: string) => Promise<void>,
): Promise<QuantizationGateReport> {
  const { plan, tensors } = await calibrateInt8({
    cfg: model.cfg,
    weights: model.weights,
    frames: calibration,
    threads: model.threads,
    ...(model.input ? { input: model.input } : {}),
  });
  await log(
    `calibrated ${plan.layers.filter((layer) => layer.precision === 'int8').length} int8 layers on ${calibration.length} images`,
  );
  const accuracyOf = async (int8Plan: Int8Plan | undefined) => {
    const detector = await createDetector({
      cfg: model.cfg,
      weights: model.weights,
      threads: model.threads,
      ...(model.names ? { names: model.names } : {}),
      ...(model.input ? { input: model.input } : {}),
      ...(int8Plan ? { int8Plan } : {}),
    });
    try {
      const accuracy = await measureAccuracy(detector);
      if (accuracy === null) throw new Error('none of the eval set images could be evaluated');
      return { accuracy, kernel: detector.info.int8Kernel ?? null };
    } finally {
      detector.dispose();
    }
  };
  const fp32 = await accuracyOf(undefined);
  const int8 = await accuracyOf(plan);
  const dropPoints = (fp32.accuracy - int8.accuracy) * 100;
  return {
    passed: dropPoints <= budgetPoints,
    budgetPoints,
    fp32Accuracy: fp32.accuracy,
    int8Accuracy: int8.accuracy,
    dropPoints: Math.round(dropPoints * 100) / 100,
    calibrationImages: calibration.length,
    int8Kernel: int8.kernel,
    layers: plan.layers.map((layer) => ({
      index: layer.index,
      precision: layer.precision,
      ...(layer.input ? { method: layer.input.method } : {}),
    })),
    plan,
    tensors,
  };
}

/** One line for logs and the version's status reason. */
export function describeGate(report: QuantizationGateReport): string {
  const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
  return (
    `eval-set accuracy FP32 ${percent(report.fp32Accuracy)}, INT8 ${percent(report.int8Accuracy)}: ` +
    `drop ${report.dropPoints.toFixed(2)} points, budget ${report.budgetPoints}`
  );
}
