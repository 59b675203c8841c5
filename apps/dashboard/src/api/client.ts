import createClient from 'openapi-fetch';
import { ApiError, apiErrorFrom } from './api-error';
import type { paths } from './generated/schema';

/** Called when the API refuses the token (401): the session ends and the login page shows why. */
type UnauthorisedListener = (message: string) => void;

let currentToken: string | undefined;
let onUnauthorised: UnauthorisedListener = () => undefined;

export function setApiToken(token: string | undefined): void {
  currentToken = token;
}

export function onApiUnauthorised(listener: UnauthorisedListener): void {
  onUnauthorised = listener;
}

export function authorisationHeader(token: string | undefined = currentToken): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** The typed API client: paths, parameters and answers come from the control plane's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: '' });

api.use({
  onRequest({ request }) {
    if (currentToken !== undefined) request.headers.set('authorization', `Bearer ${currentToken}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && currentToken !== undefined) {
      void response
        .clone()
        .json()
        .then(
          (body: unknown) => onUnauthorised(apiErrorFrom(401, body).message),
          () => onUnauthorised('the API token was not accepted'),
        );
    }
    return response;
  },
});

/**
 * The data of an openapi-fetch result, or an `ApiError` with the API's message. Every query and mutation goes
 * through here so that errors read the same everywhere.
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.data !== undefined) return result.data;
  if (result.response.ok)
    throw new ApiError(result.response.status, 'empty', 'the API answered with no body');
  throw apiErrorFrom(result.response.status, result.error);
}
