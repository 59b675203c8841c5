import { type ApiRole } from './roles';

/** Who is calling: the API token the request authenticated with. Set on `request.principal` by the guard. */
export interface Principal {
  tokenId: string;
  name: string;
  role: ApiRole;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `ApiTokenGuard` on every authenticated request; absent on public routes. */
    principal?: Principal;
  }
}
