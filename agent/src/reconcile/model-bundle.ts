import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODEL_BUNDLE_FILES } from '@emofleet/protocol';

/** Entry names every `darknet-bundle` has (as the control plane packs it). */
export const DARKNET_BUNDLE_FILES = {
  cfg: MODEL_BUNDLE_FILES.cfg,
  weights: MODEL_BUNDLE_FILES.weights,
  names: MODEL_BUNDLE_FILES.names,
} as const;

/** The second stage of a two-stage bundle: all three or none. */
const CLASSIFIER_FILES = [
  MODEL_BUNDLE_FILES.classifierCfg,
  MODEL_BUNDLE_FILES.classifierWeights,
  MODEL_BUNDLE_FILES.classifierNames,
] as const;

/**
 * The model files, `bundle.json`, the optional classifier triple, and eval set entries: `eval/<image>` with darknet
 * labels `eval/<image stem>.txt`.
 */
const ALLOWED_ENTRY =
  /^((model|classifier)\.(cfg|weights|names)|bundle\.json|eval\/[A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;

const BLOCK = 512;

/** A bundle that cannot be installed; the message names the entry and its byte offset in the archive. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

function readField(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/**
 * Unpacks a model bundle (uncompressed POSIX/ustar tar) into `directory`, accepting only regular files with the
 * known flat names (no links, no absolute or `..` paths), and fsyncs every file. Throws `BundleError` for anything
 * else, when the required files are missing, or when only part of the classifier triple is there. Pure JS: no tar binary or native module needed on the device.
 */
export function unpackModelBundle(archive: string, directory: string): string[] {
  const fd = fs.openSync(archive, 'r');
  const written: string[] = [];
  try {
    const archiveSize = fs.fstatSync(fd).size;
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | undefined;
    while (offset + BLOCK <= archiveSize) {
      fs.readSync(fd, header, 0, BLOCK, offset);
      if (header.every((byte) => byte === 0)) break;
      const checksumField = readField(header, 148, 8).trim();
      let sum = 0;
      for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
      if (Number.parseInt(checksumField, 8) !== sum)
        throw new BundleError(`tar header at byte ${offset}: bad checksum`);
      const size = Number.parseInt(readField(header, 124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156] as number);
      const prefix = readField(header, 345, 155);
      const name =
        longName ?? (prefix ? `${prefix}/${readField(header, 0, 100)}` : readField(header, 0, 100));
      longName = undefined;
      const dataOffset = offset + BLOCK;
      if (!Number.isSafeInteger(size) || size < 0 || dataOffset + size > archiveSize) {
        throw new BundleError(
          `tar entry "${name}" at byte ${offset}: size ${size} runs past the end of the archive`,
        );
      }
      offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x' || type === 'g') continue; // pax headers: names we accept fit the ustar fields
      if (type === '5' && name.replace(/\/$/, '') === 'eval') continue;
      if (type !== '0' && type !== '\0') {
        throw new BundleError(
          `tar entry "${name}" at byte ${dataOffset - BLOCK}: type "${type}" is not a regular file`,
        );
      }
      if (!ALLOWED_ENTRY.test(name)) {
        throw new BundleError(
          `tar entry "${name}" at byte ${dataOffset - BLOCK}: not a model bundle file (model.cfg, model.weights, ` +
            'model.names, bundle.json, classifier.cfg, classifier.weights, classifier.names, eval/*)',
        );
      }
      const target = path.join(directory, name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      copyRange(fd, dataOffset, size, target);
      written.push(name);
    }
  } finally {
    fs.closeSync(fd);
  }
  for (const required of Object.values(DARKNET_BUNDLE_FILES)) {
    if (!written.includes(required)) throw new BundleError(`the bundle has no ${required}`);
  }
  const classifierFiles = CLASSIFIER_FILES.filter((name) => written.includes(name));
  if (classifierFiles.length > 0 && classifierFiles.length < CLASSIFIER_FILES.length) {
    const missing = CLASSIFIER_FILES.filter((name) => !written.includes(name));
    throw new BundleError(`the bundle has ${classifierFiles.join(', ')} but no ${missing.join(', ')}`);
  }
  return written;
}

function copyRange(fd: number, start: number, length: number, target: string): void {
  const out = fs.openSync(target, 'w', 0o600);
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let done = 0;
    while (done < length) {
      const read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, length - done), start + done);
      if (read === 0) throw new BundleError(`unexpected end of archive at byte ${start + done}`);
      fs.writeSync(out, chunk, 0, read);
      done += read;
    }
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(out);
  }
}

/** Writes a bundle tar (ustar, deterministic): for tests, the simulator and tools. */
export function packModelBundle(files: Record<string, Buffer | string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const header = Buffer.alloc(BLOCK);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write('00000000000\0', 136, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    header.fill(32, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}
