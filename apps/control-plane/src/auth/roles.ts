import { SetMetadata } from '@nestjs/common';

/** API token roles, from least to most privileged. Each role may do everything the roles before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type ApiRole = (typeof ROLES)[number];

export const REQUIRED_ROLE = 'emofleet:required-role';

/**
 * The least role a route needs. Routes without it need `viewer` (any valid token); routes that must be open
 * (health, device-facing endpoints with their own credentials) are marked `@Public()`.
 */
export const RequireRole = (role: ApiRole) => SetMetadata(REQUIRED_ROLE, role);

export const PUBLIC_ROUTE = 'emofleet:public-route';
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Whether a token with role `held` may call a route that needs `required`. */
export function roleAllows(held: ApiRole, required: ApiRole): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(required);
}
