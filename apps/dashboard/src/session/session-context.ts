import { createContext, useContext } from 'react';
import type { CurrentToken, Role } from '../api/types';
import { roleAllows } from './roles';

export interface Session {
  principal: CurrentToken;
  logout: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession outside of <SessionProvider>');
  return session;
}

/** Whether the logged-in token may do what needs `role`. */
export function useRoleAllows(role: Role): boolean {
  return roleAllows(useSession().principal.role, role);
}
