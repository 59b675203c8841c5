import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

export interface ArtifactDownloadRequest {
  readonly url: string;
  /** Where the bytes go; a file already there is resumed with an HTTP Range request. */
  readonly partFile: string;
  readonly expectedSizeBytes: number;
  readonly expectedSha256: string;
  /** Device credentials, sent as HTTP Basic authentication. */
  readonly credentials: { readonly username: string; readonly password: string };
  /** PEM CA pinned at enrolment, for https URLs. */
  readonly caCertificate?: string | null;
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Socket inactivity limit (default 30 s). */
  readonly idleTimeoutMs?: number;
}

/** A download that failed for a reason worth reporting (HTTP status, size or digest mismatch). */
export class ArtifactDownloadError extends Error {
  override readonly name = 'ArtifactDownloadError';
}

/**
 * Downloads an artifact into `partFile`, resuming what is already there (Range: bytes=<size>-), then checks the
 * size and the sha256 of the whole file. On a digest mismatch the file is deleted (it can never become right).
 * Uses node:http(s) only (Node 16 has no fetch).
 */
export async function downloadArtifact(request: ArtifactDownloadRequest): Promise<void> {
  const existing = fileSize(request.partFile);
  if (existing > request.expectedSizeBytes) fs.truncateSync(request.partFile, 0);
  let offset = Math.min(existing, request.expectedSizeBytes);
  if (offset < request.expectedSizeBytes) {
    offset = await fetchInto(request, offset);
  }
  if (offset !== request.expectedSizeBytes) {
    throw new ArtifactDownloadError(
      `size mismatch: got ${offset} bytes, the manifest says ${request.expectedSizeBytes}`,
    );
  }
  const digest = await sha256OfFile(request.partFile);
  if (digest !== request.expectedSha256) {
    fs.rmSync(request.partFile, { force: true });
    throw new ArtifactDownloadError(
      `sha256 mismatch: the file has ${digest}, the manifest says ${request.expectedSha256}`,
    );
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

export function sha256OfFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Requests bytes from `offset` on and appends them to the part file; returns the resulting file size. */
function fetchInto(request: ArtifactDownloadRequest, offset: number): Promise<number> {
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  const authorization = `Basic ${Buffer.from(`${request.credentials.username}:${request.credentials.password}`).toString('base64')}`;
  const headers: http.OutgoingHttpHeaders = {
    authorization,
    ...(offset > 0 ? { range: `bytes=${offset}-` } : {}),
  };
  return new Promise((resolve, reject) => {
    const outgoing = transport.get(
      url,
      { headers, ...(request.caCertificate ? { ca: request.caCertificate } : {}) },
      (response) => {
        const status = response.statusCode ?? 0;
        let start: number;
        if (status === 206) {
          const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers['content-range'] ?? '');
          start = range === null ? -1 : Number(range[1]);
          if (start !== offset) {
            response.resume();
            reject(
              new ArtifactDownloadError(
                `the server answered Range bytes=${offset}- with Content-Range "${response.headers['content-range'] ?? ''}"`,
              ),
            );
            return;
          }
        } else if (status === 200) {
          start = 0;
        } else {
          response.resume();
          reject(new ArtifactDownloadError(`GET ${url.origin}${url.pathname} answered HTTP ${status}`));
          return;
        }
        const output = fs.createWriteStream(
          request.partFile,
          start === 0 ? { flags: 'w', mode: 0o600 } : { flags: 'a' },
        );
        let done = start;
        response.on('data', (chunk: Buffer) => {
          done += chunk.length;
          if (done > request.expectedSizeBytes) {
            outgoing.destroy(
              new ArtifactDownloadError(
                `the server sent more than the manifest's ${request.expectedSizeBytes} bytes`,
              ),
            );
            return;
          }
          request.onProgress?.(done, request.expectedSizeBytes);
        });
        response.on('error', (error) => output.destroy(error));
        response.pipe(output);
        output.on('error', reject);
        output.on('finish', () => {
          // fsync: a verified file must survive a power cut before it is unpacked.
          const fd = fs.openSync(request.partFile, 'r+');
          fs.fsyncSync(fd);
          fs.closeSync(fd);
          resolve(done);
        });
      },
    );
    outgoing.setTimeout(request.idleTimeoutMs ?? 30_000, () =>
      outgoing.destroy(
        new ArtifactDownloadError(`no data from ${url.origin} for ${request.idleTimeoutMs ?? 30_000} ms`),
      ),
    );
    outgoing.on('error', reject);
  });
}
