import { Injectable, NotFoundException } from '@nestjs/common';
import { type Principal } from '../auth/principal';
import { hashSecret, newId, newSecret } from '../auth/token-secret';
import { type EnrolmentTokenRow } from '../database/schema';
import {
  type CreateEnrolmentTokenDto,
  type CreatedEnrolmentTokenDto,
  ENROLMENT_TOKEN_DEFAULT_LIFETIME_MS,
  type EnrolmentTokenDto,
  type EnrolmentTokenListDto,
  type EnrolmentTokenListQueryDto,
} from './enrolment.dto';
import { EnrolmentRepository } from './enrolment.repository';

/** Prefix of enrolment tokens, distinct from API tokens (`emf_`). */
export const ENROLMENT_TOKEN_PREFIX = 'emfe_';

@Injectable()
export class EnrolmentTokensService {
  constructor(private readonly repository: EnrolmentRepository) {}

  async create(
    request: CreateEnrolmentTokenDto,
    creator: Principal | undefined,
  ): Promise<CreatedEnrolmentTokenDto> {
    const token = newSecret(ENROLMENT_TOKEN_PREFIX);
    const row = await this.repository.insertToken({
      id: newId('enr_'),
      name: request.name,
      tokenHash: hashSecret(token),
      maxUses: request.maxUses,
      tags: request.tags,
      createdBy: creator?.tokenId ?? null,
      expiresAt:
        request.expiresAt === undefined
          ? new Date(Date.now() + ENROLMENT_TOKEN_DEFAULT_LIFETIME_MS)
          : new Date(request.expiresAt),
    });
    return { ...toDto(row), token };
  }

  async list(query: EnrolmentTokenListQueryDto): Promise<EnrolmentTokenListDto> {
    const rows = await this.repository.listTokens(query.limit + 1, query.cursor);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => toDto(row)),
      nextCursor: rows.length > query.limit && last ? last.id : null,
    };
  }

  /** Revokes an enrolment token (idempotent). Devices already enrolled with it keep their credentials. */
  async revoke(id: string): Promise<EnrolmentTokenDto> {
    const row = await this.repository.revokeToken(id);
    if (!row) throw new NotFoundException(`no enrolment token with id ${JSON.stringify(id)}`);
    return toDto(row);
  }
}

/** Why an enrolment token can no longer be used, or `active`. */
export function enrolmentTokenState(row: EnrolmentTokenRow, now = new Date()): EnrolmentTokenDto['state'] {
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt <= now) return 'expired';
  if (row.maxUses !== null && row.uses >= row.maxUses) return 'used-up';
  return 'active';
}

function toDto(row: EnrolmentTokenRow): EnrolmentTokenDto {
  return {
    id: row.id,
    name: row.name,
    maxUses: row.maxUses,
    uses: row.uses,
    tags: row.tags,
    state: enrolmentTokenState(row),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
