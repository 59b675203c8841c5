import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { type ArtifactStore } from '../artifacts/artifact-store';

interface BundleFile {
  sha256: string;
  sizeBytes: number;
}

/** The entry names of a darknet bundle (the `darknet-bundle` format devices install). */
export const DARKNET_BUNDLE_ENTRIES = {
  cfg: 'model.cfg',
  weights: 'model.weights',
  names: 'model.names',
} as const;

/**
 * A darknet bundle: an uncompressed POSIX tar holding model.cfg, model.weights and model.names, streamed from
 * the artifact store (the weights are never held in memory). Deterministic: fixed order, mtime 0, mode 0644.
 */
export function packDarknetBundle(
  store: ArtifactStore,
  files: { cfg: BundleFile; weights: BundleFile; names: BundleFile },
): Readable {
  const pack = tar.pack();
  const append = async (name: string, file: BundleFile) => {
    const entry = pack.entry({ name, size: file.sizeBytes, mtime: new Date(0), mode: 0o644 });
    const source = await store.openRead(file.sha256);
    await new Promise<void>((resolve, reject) => {
      source.on('error', reject);
      entry.on('error', reject);
      entry.on('finish', () => resolve());
      source.pipe(entry);
    });
  };
  void (async () => {
    try {
      await append(DARKNET_BUNDLE_ENTRIES.cfg, files.cfg);
      await append(DARKNET_BUNDLE_ENTRIES.weights, files.weights);
      await append(DARKNET_BUNDLE_ENTRIES.names, files.names);
      pack.finalize();
    } catch (error) {
      pack.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  return Readable.from(pack);
}
