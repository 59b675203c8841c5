/**
 * Minimal calls to the control plane for setting up the scene (the dashboard itself is what is tested). Each
 * uses its own connection: while the control plane converts a model its event loop can be busy for seconds, and
 * a kept-alive connection it closes meanwhile would reset the next request sent on it.
 */
export class TestApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    token = this.token,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        connection: 'close',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  /** The call's body when its status is `expected`, else an error with what came back. */
  async expect<T>(expected: number, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.call<T>(method, path, body);
    if (answer.status !== expected)
      throw new Error(
        `${method} ${path}: expected ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    return answer.body;
  }

  async upload<T>(path: string, form: FormData): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, connection: 'close' },
      body: form,
    });
    const body = (await response.json()) as T;
    if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  }
}

/** Polls `read` until `done` holds, failing with `what` and the last value after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, intervalMs));
  }
}
