const KEY = 'emofleet.apiToken';

/**
 * Where the API token is kept: the tab's session storage, or local storage when the user asked to stay logged
 * in. The token never leaves this origin (the page's Content-Security-Policy allows no other).
 */
export function readStoredToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? undefined;
}

export function storeToken(token: string, remember: boolean): void {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
