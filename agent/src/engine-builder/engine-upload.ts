import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

export interface EngineUploadRequest {
  readonly url: string;
  readonly file: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Device credentials, sent as HTTP Basic authentication. */
  readonly credentials: { readonly username: string; readonly password: string };
  /** PEM CA pinned at enrolment, for https URLs. */
  readonly caCertificate?: string | null;
  /** Socket inactivity limit (default 60 s). */
  readonly idleTimeoutMs?: number;
}

/** The control plane did not take the engine; the message says why (its HTTP status and error message). */
export class EngineUploadError extends Error {
  override readonly name = 'EngineUploadError';

  constructor(
    message: string,
    /** The HTTP status of the answer; undefined when there was none (connection refused, reset, idle). */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Uploads like `uploadEngine`, trying again after each delay of `retryDelaysMs` while the control plane cannot
 * be reached or answers 5xx (a restart must not throw away a build that took minutes); a 4xx answer is final.
 */
export async function uploadEngineWithRetries(
  request: EngineUploadRequest,
  retryDelaysMs: readonly number[],
  onRetry: (error: Error, delayMs: number) => void,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await uploadEngine(request);
      return;
    } catch (error) {
      const delayMs = retryDelaysMs[attempt];
      const status = error instanceof EngineUploadError ? error.status : undefined;
      if (delayMs === undefined || (status !== undefined && status < 500)) throw error;
      onRetry(error as Error, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * PUTs the engine file to the control plane, streamed from disk, with its size and sha256 (`X-Content-SHA256`),
 * which the control plane checks against what it receives. Uses node:http(s) only (Node 16 has no fetch).
 */
export function uploadEngine(request: EngineUploadRequest): Promise<void> {
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  const { username, password } = request.credentials;
  const idleTimeoutMs = request.idleTimeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(
      url,
      {
        method: 'PUT',
        headers: {
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
          'content-type': 'application/octet-stream',
          'content-length': String(request.sizeBytes),
          'x-content-sha256': request.sha256,
        },
        ...(request.caCertificate ? { ca: request.caCertificate } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          if (chunks.length < 64) chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status === 200 || status === 201) {
            resolve();
            return;
          }
          const body = Buffer.concat(chunks).toString('utf8');
          let message = body.slice(0, 300);
          try {
            message = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? message;
          } catch {
            // Not the control plane's JSON error shape: keep the text.
          }
          reject(
            new EngineUploadError(
              `PUT ${url.origin}${url.pathname} answered HTTP ${status}: ${message}`,
              status,
            ),
          );
        });
      },
    );
    outgoing.setTimeout(idleTimeoutMs, () =>
      outgoing.destroy(
        new EngineUploadError(`no progress uploading to ${url.origin} for ${idleTimeoutMs} ms`),
      ),
    );
    outgoing.on('error', reject);
    const source = fs.createReadStream(request.file);
    source.on('error', (error) => outgoing.destroy(error));
    source.pipe(outgoing);
  });
}
