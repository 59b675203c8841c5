import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  HttpStatus,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuditService, MUTATING_METHODS } from '../audit/audit.service';
import { describeCall } from '../audit/audited-request';
import { ApiTokensService } from './api-tokens.service';
import './principal';
import { type ApiRole, PUBLIC_ROUTE, REQUIRED_ROLE, roleAllows } from './roles';

/** The role a route needs when it does not say. */
const DEFAULT_ROLE: ApiRole = 'viewer';

/**
 * The global guard: every route needs an API token (`Authorization: Bearer <token>`) with at least the role of
 * its `@RequireRole` (default `viewer`), unless it is `@Public()`. No usable token → 401 (with
 * `WWW-Authenticate: Bearer`); a token whose role is too low → 403. Refused mutating calls are audited here,
 * since they never reach the audit interceptor.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: ApiTokensService,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const token = bearerToken(request.headers.authorization);
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) {
      // Public routes serve everyone; a valid token still identifies its holder (for the audit log and for
      // routes that authorise people and devices differently).
      if (token !== undefined) {
        const authentication = await this.tokens.authenticate(token);
        if (authentication.ok) request.principal = authentication.principal;
      }
      return true;
    }
    const required =
      this.reflector.getAllAndOverride<ApiRole | undefined>(REQUIRED_ROLE, targets) ?? DEFAULT_ROLE;
    const authentication =
      token === undefined
        ? {
            ok: false as const,
            reason: 'this route needs an API token: send `Authorization: Bearer <token>`',
          }
        : await this.tokens.authenticate(token);
    if (!authentication.ok) {
      http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="emofleet"');
      await this.auditRefusal(request, HttpStatus.UNAUTHORIZED);
      throw new UnauthorizedException(authentication.reason);
    }
    request.principal = authentication.principal;
    if (!roleAllows(authentication.principal.role, required)) {
      await this.auditRefusal(request, HttpStatus.FORBIDDEN);
      throw new ForbiddenException(
        `${request.method} ${request.path} needs the ${required} role; ` +
          `API token ${authentication.principal.tokenId} has ${authentication.principal.role}`,
      );
    }
    return true;
  }

  private async auditRefusal(request: Request, status: number): Promise<void> {
    if (MUTATING_METHODS.has(request.method)) await this.audit.record(describeCall(request, status));
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
