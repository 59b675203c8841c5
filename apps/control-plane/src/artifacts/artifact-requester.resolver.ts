import { Inject, Injectable, Optional, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import {
  API_TOKEN_VERIFIER,
  type ApiTokenVerifier,
  type ArtifactRequester,
  DEVICE_CREDENTIALS_VERIFIER,
  type DeviceCredentialsVerifier,
  tokenPrincipalOf,
} from './artifact-requester';

/**
 * Authenticates a request to a device-facing artifact route: `Basic <deviceId:secret>` for devices, a bearer
 * API token (already checked by the global guard, or checked here) for people and scripts.
 */
@Injectable()
export class ArtifactRequesterResolver {
  constructor(
    @Inject(DEVICE_CREDENTIALS_VERIFIER) private readonly devices: DeviceCredentialsVerifier,
    @Optional() @Inject(API_TOKEN_VERIFIER) private readonly tokens: ApiTokenVerifier | null,
  ) {}

  async resolve(request: Request): Promise<ArtifactRequester> {
    const header = request.headers.authorization ?? '';
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (basic?.[1] !== undefined) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const separator = decoded.indexOf(':');
      const deviceId = decoded.slice(0, Math.max(separator, 0));
      const secret = decoded.slice(separator + 1);
      if (separator > 0 && (await this.devices.verify(deviceId, secret))) return { kind: 'device', deviceId };
      throw new UnauthorizedException('device credentials were not accepted');
    }
    const fromGuard = tokenPrincipalOf(request);
    if (fromGuard) return { kind: 'api-token', ...fromGuard };
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (bearer?.[1] !== undefined && this.tokens) {
      const verified = await this.tokens.verify(bearer[1]);
      if (verified) return { kind: 'api-token', ...verified };
    }
    throw new UnauthorizedException(
      'this route needs device credentials (Basic device id and secret) or an API token (Bearer)',
    );
  }
}
