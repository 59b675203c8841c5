import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { api, onApiUnauthorised, setApiToken, unwrap } from '../api/client';
import type { CurrentToken } from '../api/types';
import { LoginPage } from './LoginPage';
import { type Session, SessionContext } from './session-context';
import { forgetToken, readStoredToken, storeToken } from './token-storage';

async function identify(token: string): Promise<CurrentToken> {
  return unwrap(await api.GET('/tokens/current', { headers: { authorization: `Bearer ${token}` } }));
}

/** Shows the login page until a token is accepted, then its children with the session (role) available. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [principal, setPrincipal] = useState<CurrentToken | undefined>();
  const [restoring, setRestoring] = useState(() => readStoredToken() !== undefined);
  const [notice, setNotice] = useState<string | undefined>();

  const end = useCallback(
    (reason: string | undefined) => {
      forgetToken();
      setApiToken(undefined);
      setPrincipal(undefined);
      setNotice(reason);
      queryClient.clear();
    },
    [queryClient],
  );

  const login = useCallback(async (token: string, remember: boolean): Promise<void> => {
    const identified = await identify(token);
    storeToken(token, remember);
    setApiToken(token);
    setNotice(undefined);
    setPrincipal(identified);
  }, []);

  useEffect(() => {
    onApiUnauthorised((message) => end(`Logged out: ${message}`));
    const stored = readStoredToken();
    if (stored === undefined) return;
    identify(stored)
      .then((identified) => {
        setApiToken(stored);
        setPrincipal(identified);
      })
      .catch((error: unknown) => end(error instanceof Error ? error.message : String(error)))
      .finally(() => setRestoring(false));
  }, [end]);

  const session = useMemo<Session | undefined>(
    () => (principal === undefined ? undefined : { principal, logout: () => end(undefined) }),
    [principal, end],
  );

  if (restoring) return <p className="centered muted">Checking the saved API token…</p>;
  if (session === undefined) return <LoginPage onLogin={login} notice={notice} />;
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
