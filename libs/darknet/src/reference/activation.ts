import type { Activation } from '../network/types';

const fround = Math.fround;

/**
 * darknet's activations (activations.h), applied in place with float32 rounding:
 * leaky `x > 0 ? x : .1*x` (the slope is a double literal), relu `x*(x>0)`, logistic `1/(1+exp(-x))`.
 */
export function activateInPlace(values: Float32Array, activation: Activation): void {
  switch (activation) {
    case 'linear':
      return;
    case 'leaky':
      for (let i = 0; i < values.length; i += 1) {
        const x = values[i]!;
        if (!(x > 0)) values[i] = 0.1 * x;
      }
      return;
    case 'relu':
      for (let i = 0; i < values.length; i += 1) {
        if (!(values[i]! > 0)) values[i] = 0;
      }
      return;
    case 'logistic':
      for (let i = 0; i < values.length; i += 1) values[i] = fround(1 / (1 + Math.exp(-values[i]!)));
      return;
  }
}
