import {
  foldBatchNorm,
  type Network,
  type NetworkWeights,
  parseCfg,
  readWeights,
  replace3x3With1x1,
  RETRAIN_NOTICE,
  serialiseCfg,
  serialiseWeights,
} from '@emofleet/darknet';
import { UnrecoverableError } from 'bullmq';
import { type TransformSpec } from '../database/schema';
import { exportAndVerify, type ExportedFile, type VerifiedFormat } from './verified-exports';

/** What a conversion needs: plain data only, so it can cross into a worker thread. */
export interface ConversionInput {
  cfgText: string;
  cfgFileName: string;
  /** The darknet weights file's bytes (transferred to the thread, not copied). */
  weights: Uint8Array;
  weightsFileName: string;
  transforms: TransformSpec[];
  /** File name stem of the exports (`<model>-v<version>`). */
  stem: string;
}

/** What a conversion tells its caller while it runs, in order. */
export type ConversionEvent =
  | { type: 'log'; line: string }
  /** 0..100 of the whole convert job. */
  | { type: 'progress'; percent: number }
  /** The transformed network (only when the version has transforms); `weights` null when none survive. */
  | { type: 'transformed'; cfg: string; weights: Uint8Array | null };

export interface ConversionOutput {
  files: ExportedFile[];
  verified: VerifiedFormat[];
}

/**
 * The CPU-heavy part of `convert`, free of the database and the artifact store: parses the cfg and weights,
 * applies the transforms, exports ONNX and Caffe and verifies both against darknet's reference pass. Runs in a
 * worker thread (`convert-thread.ts`); its errors are the job's errors (`UnrecoverableError` when retrying
 * cannot help).
 */
export async function runConversion(
  input: ConversionInput,
  emit: (event: ConversionEvent) => void,
): Promise<ConversionOutput> {
  const log = (line: string) => emit({ type: 'log', line });
  const progress = (percent: number) => emit({ type: 'progress', percent });
  let network: Network = parseCfg(input.cfgText, input.cfgFileName);
  let weights: NetworkWeights | null = readWeights(
    network,
    Buffer.from(input.weights.buffer, input.weights.byteOffset, input.weights.byteLength),
    input.weightsFileName,
  );
  progress(20);

  for (const transform of input.transforms) {
    switch (transform.kind) {
      case 'fold-batch-norm': {
        if (!weights)
          throw new UnrecoverableError(
            'fold-batch-norm needs weights, but an earlier transform dropped them',
          );
        ({ network, weights } = foldBatchNorm(network, weights));
        log('folded batch norm into convolution biases (darknet epsilon: sqrt(var) + 1e-6)');
        break;
      }
      case 'replace-3x3-with-1x1': {
        const replaced = replace3x3With1x1(network, transform.paperLayers);
        network = replaced.network;
        weights = null;
        log(
          `replaced 3x3 with 1x1 at paper layers ${transform.paperLayers.join(',')}: params -` +
            `${(replaced.reduction.params * 100).toFixed(2)} %, FLOPs -${(replaced.reduction.flops * 100).toFixed(2)} %. ` +
            RETRAIN_NOTICE,
        );
        break;
      }
    }
  }
  progress(40);
  if (input.transforms.length > 0) {
    emit({
      type: 'transformed',
      cfg: serialiseCfg(network),
      weights: weights ? serialiseWeights(network, weights) : null,
    });
  }
  progress(45);
  if (!weights) {
    throw new UnrecoverableError(
      `nothing to export: replace-3x3-with-1x1 leaves the network without trained weights. ${RETRAIN_NOTICE}`,
    );
  }
  return exportAndVerify(network, weights, input.stem, {
    log: (line) => Promise.resolve(log(line)),
    advance: (fraction) => Promise.resolve(progress(45 + fraction * 50)),
  });
}
