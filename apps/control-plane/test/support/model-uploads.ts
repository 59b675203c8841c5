import * as tar from 'tar-stream';
import * as yazl from 'yazl';
import { uniqueSuffix } from './test-environment';

export interface CallResult<T> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON answer (`null` for an empty one). */
  body: T;
}

/**
 * Calls `baseUrl()` + `path` with fetch `init` (any body: JSON text or multipart form), as `init.token` when
 * given; answers status, headers, raw text and parsed JSON. `baseUrl` is read at call time (the control plane
 * starts in `beforeAll`).
 */
export function apiCaller(baseUrl: () => string) {
  return async <T>(path: string, init: RequestInit & { token?: string } = {}): Promise<CallResult<T>> => {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
    const response = await fetch(`${baseUrl()}${path}`, { ...init, headers });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (text ? JSON.parse(text) : null) as T,
    };
  };
}

/** Creates an API token of `role` with `adminToken`; fails the test unless the API answers 201. */
export async function createRoleToken(baseUrl: string, adminToken: string, role: string): Promise<string> {
  const response = await fetch(`${baseUrl}/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `${role}-${uniqueSuffix()}`, role }),
  });
  const text = await response.text();
  if (response.status !== 201)
    throw new Error(`POST /tokens for role ${role} answered ${response.status}, not 201: ${text}`);
  return (JSON.parse(text) as { token: string }).token;
}

/** One file of a model version upload: the form field, its content and the file name sent with it. */
export interface UploadFile {
  readonly content: Buffer;
  readonly filename: string;
}

/**
 * The multipart body of `POST /models/:model/versions`: each file under its field (`cfg`, `weights`, `names`,
 * `evalSet`, `calibrationSet`, ...; undefined ones left out), then repeated plain fields.
 */
export function uploadForm(
  files: Record<string, UploadFile | undefined>,
  fields: Record<string, readonly string[]> = {},
): FormData {
  const data = new FormData();
  for (const [field, file] of Object.entries(files))
    if (file !== undefined) data.append(field, new Blob([file.content]), file.filename);
  for (const [field, values] of Object.entries(fields)) for (const value of values) data.append(field, value);
  return data;
}

/** A tar archive of `entries` (eval and calibration sets). */
export async function tarArchive(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(entries)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A zip archive of `entries` (eval and calibration sets). */
export async function zipArchive(entries: Record<string, Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) zip.addBuffer(content, name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
