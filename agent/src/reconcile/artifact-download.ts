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
  /**
   * Waits before each further attempt after a failure worth retrying (a stall, a dropped connection, HTTP 5xx, 408
   * or 429), each scaled by a random factor in [0.5, 1) so that a fleet cut off together does not come back
   * together; the download resumes where it stopped. Default: `DEFAULT_RETRY_DELAYS_MS`; `[]`: one attempt.
   */
  readonly retryDelaysMs?: readonly number[];
  /** Told before each wait: why the attempt failed and how long until the next. */
  readonly onRetry?: (reason: string, delayMs: number) => void;
}

/** Five attempts in all, over about a minute of waiting at most. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [2_000, 5_000, 15_000, 30_000];

/** Socket errors a later attempt may not meet. */
const RETRIABLE_SOCKET_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** A download that failed for a reason worth reporting (HTTP status, size or digest mismatch, a stall). */
export class ArtifactDownloadError extends Error {
  override readonly name = 'ArtifactDownloadError';

  constructor(
    message: string,
    /** Whether trying again (now or later) may succeed: a stall, HTTP 5xx; not a wrong digest or HTTP 403. */
    readonly retriable: boolean,
  ) {
    super(message);
  }
}

/**
 * Downloads an artifact into `partFile`, resuming what is already there (Range: bytes=<size>-) and, after a
 * failure worth retrying, trying again from where it stopped (`retryDelaysMs`); then checks the size and the
 * sha256 of the whole file. On a digest mismatch the file is deleted (it can never become right). Uses
 * node:http(s) only (Node 16 has no fetch).
 */
export async function downloadArtifact(request: ArtifactDownloadRequest): Promise<void> {
  const delays = request.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await fetchRemaining(request);
      break;
    } catch (error) {
      const delay = delays[attempt - 1];
      if (!worthRetrying(error)) throw error;
      if (delay === undefined) throw afterAttempts(error, attempt);
      const waitMs = Math.round(delay * (0.5 + Math.random() * 0.5));
      request.onRetry?.(errorMessage(error), waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
  const digest = await sha256OfFile(request.partFile);
  if (digest !== request.expectedSha256) {
    fs.rmSync(request.partFile, { force: true });
    throw new ArtifactDownloadError(
      `sha256 mismatch: the file has ${digest}, the manifest says ${request.expectedSha256}`,
      false,
    );
  }
}

/** Fetches what the part file lacks; fails unless it then holds exactly the manifest's size. */
async function fetchRemaining(request: ArtifactDownloadRequest): Promise<void> {
  const existing = fileSize(request.partFile);
  if (existing > request.expectedSizeBytes) fs.truncateSync(request.partFile, 0);
  let offset = Math.min(existing, request.expectedSizeBytes);
  if (offset < request.expectedSizeBytes) offset = await fetchInto(request, offset);
  if (offset !== request.expectedSizeBytes) {
    throw new ArtifactDownloadError(
      `the response ended after ${offset} of the manifest's ${request.expectedSizeBytes} bytes`,
      true,
    );
  }
}

function worthRetrying(error: unknown): boolean {
  if (error instanceof ArtifactDownloadError) return error.retriable;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && RETRIABLE_SOCKET_ERRORS.has(code);
}

function afterAttempts(error: unknown, attempts: number): Error {
  const message = attempts === 1 ? errorMessage(error) : `${errorMessage(error)} (${attempts} attempts)`;
  return error instanceof ArtifactDownloadError
    ? new ArtifactDownloadError(message, error.retriable)
    : new Error(message);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function syncFile(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
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
            // Not the range asked for: start again from the first byte.
            fs.truncateSync(request.partFile, 0);
            reject(
              new ArtifactDownloadError(
                `the server answered Range bytes=${offset}- with Content-Range "${response.headers['content-range'] ?? ''}"`,
                true,
              ),
            );
            return;
          }
        } else if (status === 200) {
          start = 0;
        } else {
          response.resume();
          reject(
            new ArtifactDownloadError(
              `GET ${url.origin}${url.pathname} answered HTTP ${status}`,
              status >= 500 || status === 408 || status === 429,
            ),
          );
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
                false,
              ),
            );
            return;
          }
          request.onProgress?.(done, request.expectedSizeBytes);
        });
        // A response that breaks off keeps what arrived (written out, then resumed from) and fails the attempt.
        let failed: Error | undefined;
        const breakOff = (error: Error) => {
          if (failed !== undefined) return;
          failed = error;
          response.unpipe(output);
          output.end();
        };
        const brokenOff = (why: string) =>
          new ArtifactDownloadError(`the connection broke off after ${done} bytes (${why})`, true);
        response.on('error', (error) => breakOff(brokenOff(error.message)));
        response.on('close', () => {
          if (!response.complete) breakOff(brokenOff('closed'));
        });
        response.pipe(output);
        output.on('error', reject);
        output.on('finish', () => {
          // fsync: a verified file must survive a power cut before it is unpacked.
          syncFile(request.partFile).then(
            () => (failed === undefined ? resolve(done) : reject(failed)),
            reject,
          );
        });
      },
    );
    outgoing.setTimeout(request.idleTimeoutMs ?? 30_000, () =>
      outgoing.destroy(
        new ArtifactDownloadError(
          `no data from ${url.origin} for ${request.idleTimeoutMs ?? 30_000} ms`,
          true,
        ),
      ),
    );
    outgoing.on('error', reject);
  });
}
