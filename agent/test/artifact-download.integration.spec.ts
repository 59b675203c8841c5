import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArtifactDownloadError, downloadArtifact } from '../src/reconcile/artifact-download';
import { ArtifactServerDouble } from './support/artifact-server-double';

const CREDENTIALS = { username: 'download-device', password: 'download-secret' };

describe('artifact download against a local HTTP server double that stalls, drops and refuses', () => {
  let server: ArtifactServerDouble;
  let directory: string;

  beforeEach(async () => {
    server = await ArtifactServerDouble.start(CREDENTIALS);
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-download-'));
  });

  afterEach(async () => {
    await server.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const download = (
    content: Buffer,
    options: { retryDelaysMs?: number[]; idleTimeoutMs?: number; sha256?: string } = {},
  ) => {
    const artifact = server.add(content);
    const retries: string[] = [];
    const partFile = path.join(directory, `${artifact.sha256}.part`);
    const done = downloadArtifact({
      url: artifact.url,
      partFile,
      expectedSizeBytes: artifact.sizeBytes,
      expectedSha256: options.sha256 ?? artifact.sha256,
      credentials: CREDENTIALS,
      retryDelaysMs: options.retryDelaysMs ?? [20, 20, 20],
      ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      onRetry: (reason) => retries.push(reason),
    });
    return { done, retries, partFile };
  };

  it('resumes with a Range request after the connection drops mid-body', async () => {
    server.faults.push('cut');
    const content = randomBytes(200_000);
    const { done, retries, partFile } = download(content);
    await done;
    expect(fs.readFileSync(partFile).equals(content)).toBe(true);
    // The second request asks for what the first did not bring (what arrived before the drop was kept).
    const [first, second] = server.requests.map((request) => request.range);
    expect(first).toBeUndefined();
    const kept = Number(/^bytes=(\d+)-$/.exec(second ?? '')?.[1]);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([
      expect.stringMatching(/^the connection broke off after \d+ bytes \((aborted|closed)\)$/),
    ]);
  });

  it('gives up on a stalled response after the idle limit and tries again', async () => {
    server.faults.push('stall');
    const { done, retries } = download(randomBytes(1000), { idleTimeoutMs: 300 });
    await done;
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([expect.stringMatching(/^no data from http:\/\/127\.0\.0\.1:\d+ for 300 ms$/)]);
  });

  it('tries again after HTTP 503 and 429, not after HTTP 403', async () => {
    server.faults.push(503, 429);
    const first = download(randomBytes(1000));
    await first.done;
    expect(first.retries).toEqual([
      expect.stringMatching(/answered HTTP 503$/),
      expect.stringMatching(/answered HTTP 429$/),
    ]);

    server.faults.push(403);
    const second = download(randomBytes(1000));
    const refused = await second.done.catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ArtifactDownloadError);
    expect(refused).toMatchObject({ retriable: false, message: expect.stringMatching(/answered HTTP 403$/) });
    expect(second.retries).toEqual([]);
  });

  it('fails after its last attempt, saying how many it made, with what it has kept for the next time', async () => {
    server.faults.push('cut', 503, 503);
    const content = randomBytes(200_000);
    const { done, retries, partFile } = download(content, { retryDelaysMs: [10, 10] });
    const failure = await done.catch((error: unknown) => error);
    expect(failure).toMatchObject({
      retriable: true,
      message: expect.stringMatching(/HTTP 503 \(3 attempts\)$/),
    });
    expect(retries).toHaveLength(2);
    const kept = fs.readFileSync(partFile);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.equals(content.subarray(0, kept.length))).toBe(true);
  });

  it('tries again when the connection is refused (the control plane restarting)', async () => {
    const artifact = server.add(randomBytes(1000));
    await server.close();
    const retries: string[] = [];
    const failure = await downloadArtifact({
      url: artifact.url,
      partFile: path.join(directory, 'refused.part'),
      expectedSizeBytes: artifact.sizeBytes,
      expectedSha256: artifact.sha256,
      credentials: CREDENTIALS,
      retryDelaysMs: [10],
      onRetry: (reason) => retries.push(reason),
    }).catch((error: unknown) => error);
    expect(retries).toEqual([expect.stringMatching(/ECONNREFUSED/)]);
    expect((failure as Error).message).toMatch(/ECONNREFUSED.*\(2 attempts\)$/);
    server = await ArtifactServerDouble.start(CREDENTIALS);
  });

  it('never retries a digest mismatch, and deletes the file', async () => {
    const { done, retries, partFile } = download(randomBytes(1000), { sha256: '0'.repeat(64) });
    const failure = await done.catch((error: unknown) => error);
    expect(failure).toMatchObject({ retriable: false, message: expect.stringMatching(/^sha256 mismatch/) });
    expect(retries).toEqual([]);
    expect(fs.existsSync(partFile)).toBe(false);
  });
});
