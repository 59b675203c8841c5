import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';

export interface MultipartFile {
  field: string;
  path: string;
}

export interface MultipartBody {
  contentType: string;
  /** Exact byte length of the body (sent as Content-Length). */
  length: number;
  /** Bytes of file content in the body (what progress counts). */
  fileBytes: number;
  stream: ReadableStream<Uint8Array>;
}

/**
 * A multipart/form-data body that streams its files from disk (nothing is buffered whole), reporting each
 * chunk of file content through `onFileBytes`.
 */
export async function multipartFromFiles(
  files: MultipartFile[],
  fields: Array<[string, string]>,
  onFileBytes: (sent: number) => void,
): Promise<MultipartBody> {
  const boundary = `emofleet-${randomBytes(12).toString('hex')}`;
  const parts: Array<{ head: Buffer; file?: { path: string; size: number } }> = [];
  for (const [name, value] of fields) {
    parts.push({
      head: Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    });
  }
  for (const file of files) {
    const size = (await stat(file.path)).size;
    const name = basename(file.path).replace(/"/g, '');
    parts.push({
      head: Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${name}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      file: { path: file.path, size },
    });
  }
  const tail = Buffer.from(`--${boundary}--\r\n`);
  const fileBytes = parts.reduce((sum, part) => sum + (part.file?.size ?? 0), 0);
  const length =
    parts.reduce((sum, part) => sum + part.head.length + (part.file ? part.file.size + 2 : 0), 0) +
    tail.length;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    for (const part of parts) {
      yield part.head;
      if (!part.file) continue;
      for await (const chunk of createReadStream(part.file.path)) {
        const bytes = chunk as Buffer;
        sent += bytes.length;
        onFileBytes(sent);
        yield bytes;
      }
      yield Buffer.from('\r\n');
    }
    yield tail;
  }
  const iterator = chunks();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
  return { contentType: `multipart/form-data; boundary=${boundary}`, length, fileBytes, stream };
}
