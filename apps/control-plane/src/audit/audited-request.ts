import type { Request } from 'express';
import { type AuditedCall } from './audit.service';

/**
 * What the audit log records about a request: the route template (`/devices/:id`) where Express matched one,
 * and the target: the `:id` parameter, else the `id` (or `deviceId`) of the created resource in the response.
 */
export function describeCall(request: Request, status: number, responseBody?: unknown): AuditedCall {
  const route = (request.route as { path?: unknown } | undefined)?.path;
  const params = request.params as Record<string, string | undefined> | undefined;
  return {
    principal: request.principal,
    method: request.method,
    route: typeof route === 'string' ? route : request.path,
    path: request.originalUrl.split('?')[0] ?? request.path,
    targetId: params?.id ?? createdId(responseBody),
    status,
    sourceIp: request.ip,
  };
}

function createdId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['id', 'deviceId']) {
    const value = record[key];
    if (typeof value === 'string') return value;
  }
  return undefined;
}
