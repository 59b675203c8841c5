import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { type Logger } from '../logger';
import { type SlotStore } from '../slots';
import { unpackModelBundle } from './model-bundle';

/** A bundle archive on local disk that a device runs until the control plane assigns something else. */
export interface PreinstalledModel {
  /** Uncompressed darknet-bundle tar, as the control plane packs it. */
  readonly archive: string;
  readonly modelId: string;
  readonly version: string;
}

function sha256Of(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      hash.update(chunk.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Installs `model` into slot a and points `current` at it, when the device runs no model yet (nothing installed,
 * no desired state handled): the reconciler then loads it at start exactly as after a restart, and later desired
 * states replace it as usual. The archive is unpacked by the same code as downloads; its sha256 and size form the
 * manifest. A device that already has a model keeps it. Returns whether it installed.
 */
export function preinstallModel(slots: SlotStore, model: PreinstalledModel, logger: Logger): boolean {
  const pointer = slots.readPointer();
  if (pointer.current !== null || pointer.handledDesiredVersion !== null) return false;
  const sha256 = sha256Of(model.archive);
  const directory = slots.clearSlot('a');
  unpackModelBundle(model.archive, directory);
  slots.markInstalled('a', sha256);
  slots.writePointer({
    ...pointer,
    current: {
      modelId: model.modelId,
      version: model.version,
      format: 'darknet-bundle',
      sha256,
      sizeBytes: fs.statSync(model.archive).size,
      slot: 'a',
      desiredVersion: 0,
      installedAt: Date.now(),
      measuredFps: null,
      measuredAccuracy: null,
      measuredMap50: null,
    },
  });
  logger.info('preinstalled a local model', { modelId: model.modelId, version: model.version, sha256 });
  return true;
}
