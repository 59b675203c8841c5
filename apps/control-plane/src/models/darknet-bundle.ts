import { Readable } from 'node:stream';
import { MODEL_BUNDLE_FILES } from '@emofleet/protocol';
import * as tar from 'tar-stream';
import { type ArtifactStore } from '../artifacts/artifact-store';

interface BundleFile {
  sha256: string;
  sizeBytes: number;
}

/** The entry names of a darknet bundle (the `darknet-bundle` format devices install; libs/protocol). */
export const DARKNET_BUNDLE_ENTRIES = MODEL_BUNDLE_FILES;

/** The files of a bundle: the detector triple, and for a two-stage bundle the classifier triple + bundle.json. */
export interface DarknetBundleFiles {
  cfg: BundleFile;
  weights: BundleFile;
  names: BundleFile;
  /** bundle.json (input preparation, classifier, label mapping); absent: a letterboxed single-stage detector. */
  description?: BundleFile;
  classifier?: { cfg: BundleFile; weights: BundleFile; names: BundleFile };
}

/**
 * A darknet bundle: an uncompressed POSIX tar holding model.cfg, model.weights and model.names (then bundle.json
 * and classifier.cfg/.weights/.names when given), streamed from the artifact store (the weights are never held in
 * memory). Deterministic: fixed order, mtime 0, mode 0644.
 */
export function packDarknetBundle(store: ArtifactStore, files: DarknetBundleFiles): Readable {
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
      if (files.description) await append(DARKNET_BUNDLE_ENTRIES.description, files.description);
      if (files.classifier) {
        await append(DARKNET_BUNDLE_ENTRIES.classifierCfg, files.classifier.cfg);
        await append(DARKNET_BUNDLE_ENTRIES.classifierWeights, files.classifier.weights);
        await append(DARKNET_BUNDLE_ENTRIES.classifierNames, files.classifier.names);
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  return Readable.from(pack);
}
