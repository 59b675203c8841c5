/** An API call that failed, with the control plane's message (`{ error: { status, code, message } }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Reads the API's JSON error shape from a failed response's body (or describes what came instead). */
export function apiErrorFrom(status: number, body: unknown): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const { error } = body;
    if (typeof error === 'object' && error !== null) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return new ApiError(
        status,
        typeof code === 'string' ? code : 'error',
        typeof message === 'string' ? message : `HTTP ${status}`,
      );
    }
  }
  return new ApiError(status, 'error', `HTTP ${status}`);
}
