import type { Request } from 'express';
import '../auth/principal';
import { type ApiRole, ROLES } from '../auth/roles';

/** Who is asking for an artifact: a device with its own credentials, or an API token holder. */
export type ArtifactRequester =
  | { kind: 'device'; deviceId: string }
  | { kind: 'api-token'; role: ApiRole; subject: string };

/**
 * Verifies API bearer tokens for routes that devices reach too (they are `@Public()` for the global guard, which
 * knows nothing of device credentials). Provided by the auth module under `API_TOKEN_VERIFIER`.
 */
export interface ApiTokenVerifier {
  verify(token: string): Promise<{ role: ApiRole; subject: string } | undefined>;
}
export const API_TOKEN_VERIFIER = Symbol('API_TOKEN_VERIFIER');

/** Checks a device's Basic credentials (device id + the secret enrolment issued). */
export interface DeviceCredentialsVerifier {
  verify(deviceId: string, secret: string): Promise<boolean>;
}
export const DEVICE_CREDENTIALS_VERIFIER = Symbol('DEVICE_CREDENTIALS_VERIFIER');

/**
 * Which artifacts a device may download: those of the models desired for it, and the inputs of engine builds
 * assigned to it. Implementations answer from the database; see `DatabaseDeviceArtifactAccess`.
 */
export interface DeviceArtifactAccess {
  mayDownload(deviceId: string, sha256: string): Promise<boolean>;
}
export const DEVICE_ARTIFACT_ACCESS = Symbol('DEVICE_ARTIFACT_ACCESS');

/** The API token principal the global guard attached (`request.principal`), if any. */
export function tokenPrincipalOf(request: Request): { role: ApiRole; subject: string } | undefined {
  const principal = request.principal;
  return principal ? { role: principal.role, subject: `token:${principal.name}` } : undefined;
}

export function roleAtLeast(role: ApiRole, needed: ApiRole): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
