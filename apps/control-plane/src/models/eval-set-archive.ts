import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import * as tar from 'tar-stream';
import * as yauzl from 'yauzl';
import { type ArtifactStore } from '../artifacts/artifact-store';
import { ModelValidationError } from './model-validation-error';

export interface EvalSetLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  maxCompressionRatio: number;
}

export interface EvalSetSummary {
  format: 'zip' | 'tar';
  images: number;
  labels: number;
  boxes: number;
}

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp']);
const MAX_LABEL_BYTES = 1024 * 1024;
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export interface ArchiveEntry {
  name: string;
  isDirectory: boolean;
  /** What the entry is when it is neither a regular file nor a directory (`symlink`, `link`, `fifo`, ...). */
  specialType?: string;
  uncompressedBytes: number;
  compressedBytes: number;
  /** Reads the entry's content (at most once, while the entry is being visited). */
  read(): Promise<Buffer>;
}

/**
 * Checks an eval set archive (zip or tar; images with darknet-format labels, `<image stem>.txt` holding lines
 * `class cx cy w h`, all relative in [0, 1]) without extracting it: entry names must stay inside the archive,
 * entry count, total uncompressed size and per-entry compression ratio are capped, every image has a label (unless
 * `labels: 'optional'`, for calibration sets) and every label line is valid for `classes`.
 */
export async function checkEvalSetArchive(
  store: ArtifactStore,
  sha256: string,
  sizeBytes: number,
  classes: number,
  limits: EvalSetLimits,
  file: string,
  options: { labels: 'required' | 'optional' } = { labels: 'required' },
): Promise<EvalSetSummary> {
  if (sizeBytes === 0) throw new ModelValidationError(file, 'is empty');
  const head = await buffer(await store.openRead(sha256, { start: 0, end: Math.min(3, sizeBytes - 1) }));
  const format = head.equals(ZIP_MAGIC) ? 'zip' : 'tar';
  const images = new Set<string>();
  const labels = new Set<string>();
  let entries = 0;
  let total = 0;
  let boxes = 0;
  const visit = async (entry: ArchiveEntry): Promise<void> => {
    entries += 1;
    if (entries > limits.maxEntries) {
      throw new ModelValidationError(file, `has more than ${limits.maxEntries} entries`);
    }
    const problem = entryNameProblem(entry.name);
    if (problem) throw new ModelValidationError(file, `entry "${entry.name}" ${problem}`);
    if (entry.specialType !== undefined) {
      throw new ModelValidationError(
        file,
        `entry "${entry.name}" is a ${entry.specialType}: only regular files and directories are allowed`,
      );
    }
    total += entry.uncompressedBytes;
    if (total > limits.maxUncompressedBytes) {
      throw new ModelValidationError(file, `unpacks to more than ${limits.maxUncompressedBytes} bytes`);
    }
    if (
      entry.compressedBytes > 0 &&
      entry.uncompressedBytes / entry.compressedBytes > limits.maxCompressionRatio
    ) {
      throw new ModelValidationError(
        file,
        `entry "${entry.name}" expands ${Math.round(entry.uncompressedBytes / entry.compressedBytes)}x ` +
          `(at most ${limits.maxCompressionRatio}x): refusing a possible zip bomb`,
      );
    }
    if (entry.isDirectory) return;
    const extension = posix.extname(entry.name).toLowerCase();
    const stem = entry.name.slice(0, entry.name.length - extension.length);
    if (IMAGE_EXTENSIONS.has(extension)) images.add(stem);
    else if (extension === '.txt') {
      if (entry.uncompressedBytes > MAX_LABEL_BYTES) {
        throw new ModelValidationError(file, `label ${entry.name} is larger than ${MAX_LABEL_BYTES} bytes`);
      }
      labels.add(stem);
      boxes += checkLabelFile((await entry.read()).toString('utf8'), classes, `${file}:${entry.name}`);
    }
  };
  if (format === 'zip') await walkZip(store, sha256, sizeBytes, visit, file);
  else await walkTar(await store.openRead(sha256), visit, file);
  if (images.size === 0) throw new ModelValidationError(file, 'contains no images (.jpg, .jpeg, .png, .bmp)');
  const unlabelled = [...images].filter((stem) => !labels.has(stem));
  if (options.labels === 'required' && unlabelled.length > 0) {
    throw new ModelValidationError(
      file,
      `${unlabelled.length} image(s) have no label file, e.g. ${unlabelled.slice(0, 3).join(', ')} (expected <image>.txt)`,
    );
  }
  return { format, images: images.size, labels: labels.size, boxes };
}

/** Visits every entry of a stored zip or tar archive, one at a time. */
export async function walkArchive(
  store: ArtifactStore,
  sha256: string,
  sizeBytes: number,
  visit: (entry: ArchiveEntry) => Promise<void>,
  file: string,
): Promise<void> {
  if (sizeBytes === 0) throw new ModelValidationError(file, 'is empty');
  const head = await buffer(await store.openRead(sha256, { start: 0, end: Math.min(3, sizeBytes - 1) }));
  if (head.equals(ZIP_MAGIC)) await walkZip(store, sha256, sizeBytes, visit, file);
  else await walkTar(await store.openRead(sha256), visit, file);
}

const TAR_PLAIN_TYPES = new Set(['file', 'contiguous-file', 'directory']);

/** Whether a zip entry made on Unix is a symbolic link (file type bits of its external attributes). */
function isZipSymlink(entry: yauzl.Entry): boolean {
  const madeOnUnix = entry.versionMadeBy >>> 8 === 3;
  return madeOnUnix && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}

function entryNameProblem(name: string): string | undefined {
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return 'leaves the archive (path traversal with "..")';
  if (name.includes('\0')) return 'contains NUL';
  return undefined;
}

/** Validates darknet label lines; returns the number of boxes. */
function checkLabelFile(content: string, classes: number, where: string): number {
  let boxes = 0;
  content.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const fields = line.trim().split(/\s+/);
    const fail = (why: string) => {
      throw new ModelValidationError(`${where}:${index + 1}`, why);
    };
    if (fields.length !== 5) fail(`expected "class cx cy w h", got ${fields.length} fields`);
    const [classField = '', ...coordinates] = fields;
    const classId = Number(classField);
    if (!Number.isInteger(classId) || classId < 0 || classId >= classes) {
      fail(`class "${classField}" is not an integer in 0..${classes - 1}`);
    }
    for (const coordinate of coordinates) {
      const value = Number(coordinate);
      if (!Number.isFinite(value) || value < 0 || value > 1)
        fail(`coordinate "${coordinate}" is not in [0, 1]`);
    }
    boxes += 1;
  });
  return boxes;
}

async function walkTar(
  source: Readable,
  visit: (entry: ArchiveEntry) => Promise<void>,
  file: string,
): Promise<void> {
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      let consumed = false;
      const entry: ArchiveEntry = {
        name: header.name.replace(/^\.\//, ''),
        isDirectory: header.type === 'directory',
        ...(TAR_PLAIN_TYPES.has(header.type ?? 'file') ? {} : { specialType: header.type ?? 'file' }),
        uncompressedBytes: header.size ?? 0,
        compressedBytes: 0,
        read: () => {
          consumed = true;
          return buffer(stream);
        },
      };
      visit(entry).then(
        () => {
          if (consumed) next();
          else {
            stream.on('end', () => next());
            stream.resume();
          }
        },
        (error: unknown) => {
          extract.destroy();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
    extract.on('finish', () => resolve());
    extract.on('error', (error: Error) =>
      reject(
        new ModelValidationError(file, `is neither a zip nor a readable tar archive (${error.message})`),
      ),
    );
  });
  source.pipe(extract);
  await done;
}

async function walkZip(
  store: ArtifactStore,
  sha256: string,
  sizeBytes: number,
  visit: (entry: ArchiveEntry) => Promise<void>,
  file: string,
): Promise<void> {
  const reader = new StoreRandomAccessReader(store, sha256);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromRandomAccessReader(
      reader,
      sizeBytes,
      { lazyEntries: true, validateEntrySizes: true },
      (error, zipFile) =>
        error
          ? reject(new ModelValidationError(file, `is not a readable zip archive (${error.message})`))
          : resolve(zipFile),
    ),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (raw: yauzl.Entry) => {
        const entry: ArchiveEntry = {
          name: raw.fileName,
          isDirectory: raw.fileName.endsWith('/'),
          ...(isZipSymlink(raw) ? { specialType: 'symlink' } : {}),
          uncompressedBytes: raw.uncompressedSize,
          compressedBytes: raw.compressedSize,
          read: () =>
            new Promise<Buffer>((resolveRead, rejectRead) =>
              zip.openReadStream(raw, (error, stream) => {
                if (error) rejectRead(error);
                else buffer(stream).then(resolveRead, rejectRead);
              }),
            ),
        };
        visit(entry).then(
          () => zip.readEntry(),
          (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
        );
      });
      zip.on('end', () => resolve());
      zip.on('error', (error: Error) =>
        reject(new ModelValidationError(file, `is a damaged zip archive (${error.message})`)),
      );
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/** Lets yauzl read the zip's central directory and entries through byte ranges of the store. */
class StoreRandomAccessReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly store: ArtifactStore,
    private readonly sha256: string,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const output = new PassThrough();
    if (end <= start) {
      output.end();
      return output;
    }
    this.store.openRead(this.sha256, { start, end: end - 1 }).then(
      (input) => input.pipe(output),
      (error: unknown) => output.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return output;
  }
}
