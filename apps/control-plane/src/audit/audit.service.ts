import { Injectable, Logger } from '@nestjs/common';
import { type AuditLogRow } from '../database/schema';
import { type Principal } from '../auth/principal';
import { type AuditEntryDto, type AuditListDto, type AuditListQueryDto } from './audit.dto';
import { AuditRepository } from './audit.repository';

/** HTTP methods that change state; every call with one of them is audited. */
export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuditedCall {
  principal: Principal | undefined;
  method: string;
  route: string;
  path: string;
  targetId: string | undefined;
  status: number;
  sourceIp: string | undefined;
}

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(private readonly repository: AuditRepository) {}

  /**
   * Writes one entry. A failed write is logged, not thrown: the call it describes has already happened, and
   * failing the response would misreport its outcome.
   */
  async record(call: AuditedCall): Promise<void> {
    try {
      await this.repository.insert({
        actorTokenId: call.principal?.tokenId ?? null,
        actorName: call.principal?.name ?? null,
        actorRole: call.principal?.role ?? null,
        method: call.method,
        route: call.route,
        path: call.path,
        targetId: call.targetId ?? null,
        status: call.status,
        sourceIp: call.sourceIp ?? null,
      });
    } catch (error) {
      this.logger.error(
        `could not write the audit entry for ${call.method} ${call.path} (${call.status}) by ` +
          `${call.principal?.tokenId ?? 'anonymous'}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  async list(query: AuditListQueryDto): Promise<AuditListDto> {
    const rows = await this.repository.list({
      actorTokenId: query.actorTokenId,
      method: query.method,
      route: query.route,
      targetId: query.targetId,
      status: query.status,
      since: query.since === undefined ? undefined : new Date(query.since),
      until: query.until === undefined ? undefined : new Date(query.until),
      before: query.cursor === undefined ? undefined : Number(query.cursor),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toDto),
      nextCursor: rows.length > query.limit && last ? String(last.id) : null,
    };
  }
}

function toDto(row: AuditLogRow): AuditEntryDto {
  return {
    id: String(row.id),
    occurredAt: row.occurredAt.toISOString(),
    actor:
      row.actorTokenId === null
        ? null
        : { tokenId: row.actorTokenId, name: row.actorName, role: row.actorRole },
    method: row.method,
    route: row.route,
    path: row.path,
    targetId: row.targetId,
    status: row.status,
    sourceIp: row.sourceIp,
  };
}
