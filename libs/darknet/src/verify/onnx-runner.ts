import { readFileSync } from 'fs';
import type { Shape } from '../network/types';

/**
 * Runs an ONNX model with onnxruntime-node (CPU) on each input (`[1, ...inputShape]` fed as `input`) and
 * returns, per output name, one tensor per input. onnxruntime-node is loaded on first use, so importing
 * this library does not load the native runtime.
 */
export async function runOnnx(
  model: string | Uint8Array,
  inputShape: Shape,
  inputs: readonly Float32Array[],
  outputNames: readonly string[],
  options: { graphOptimization?: 'all' | 'disabled' } = {},
): Promise<Map<string, Float32Array[]>> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(typeof model === 'string' ? readFileSync(model) : model, {
    graphOptimizationLevel: options.graphOptimization ?? 'all',
  });
  try {
    const outputs = new Map<string, Float32Array[]>(outputNames.map((name) => [name, []]));
    for (const input of inputs) {
      const result = await session.run({ input: new ort.Tensor('float32', input, [1, ...inputShape]) });
      for (const name of outputNames) {
        const tensor = result[name];
        if (!tensor) throw new Error(`the ONNX model has no output '${name}'`);
        outputs.get(name)?.push(Float32Array.from(tensor.data as Float32Array));
      }
    }
    return outputs;
  } finally {
    await session.release();
  }
}
