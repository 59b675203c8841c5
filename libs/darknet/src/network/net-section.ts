import { type SectionReader } from '../cfg/section-reader';
import type { NetOptions } from './types';

/**
 * `[net]` keys darknet's `parse_net_options` reads that only matter for training or data augmentation.
 * They are accepted, kept for serialisation, and otherwise ignored.
 */
export const NET_PASSTHROUGH_KEYS: ReadonlySet<string> = new Set([
  'learning_rate',
  'momentum',
  'decay',
  'time_steps',
  'notruth',
  'random',
  'adam',
  'B1',
  'B2',
  'eps',
  'max_crop',
  'min_crop',
  'max_ratio',
  'min_ratio',
  'center',
  'clip',
  'angle',
  'aspect',
  'saturation',
  'exposure',
  'hue',
  'policy',
  'burn_in',
  'power',
  'step',
  'scale',
  'steps',
  'scales',
  'gamma',
  'max_batches',
]);

/** Reads the `[net]` section: input size and batching; training keys pass through. */
export function readNetSection(reader: SectionReader): NetOptions {
  reader.rejectUnsupported(['inputs']);
  const width = reader.intAtLeast('width', 1);
  const height = reader.intAtLeast('height', 1);
  const channels = reader.intAtLeast('channels', 1);
  const batch = reader.intAtLeast('batch', 1, 1);
  const subdivisions = reader.intAtLeast('subdivisions', 1, 1);
  const passthrough = reader.finish(NET_PASSTHROUGH_KEYS);
  return { width, height, channels, batch, subdivisions, passthrough, line: reader.section.line };
}
