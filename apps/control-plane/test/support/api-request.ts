import { testAdminToken } from './test-environment';

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiErrorResponseBody {
  error: { status: number; code: string; message: string; details?: unknown };
}

/**
 * Calls the control plane's API at `baseUrl` as `token` (default: the test admin token; `null` sends no
 * Authorization header) and parses the JSON answer.
 */
export async function apiRequest<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown } = {},
): Promise<ApiResponse<T>> {
  const token = options.token === undefined ? testAdminToken : options.token;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text === '' ? undefined : JSON.parse(text)) as T,
    headers: response.headers,
  };
}
