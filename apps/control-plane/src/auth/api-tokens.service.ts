import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { type ApiTokenRow } from '../database/schema';
import {
  type ApiTokenDto,
  type ApiTokenListDto,
  type ApiTokenListQueryDto,
  type CreateApiTokenDto,
  type CreatedApiTokenDto,
} from './api-token.dto';
import { ApiTokensRepository } from './api-tokens.repository';
import { type Principal } from './principal';
import { hashSecret, newId, newSecret } from './token-secret';

/** Prefix of every API token, so a leaked one is recognisable (and scanners can find it). */
export const API_TOKEN_PREFIX = 'emf_';

export type Authentication = { ok: true; principal: Principal } | { ok: false; reason: string };

@Injectable()
export class ApiTokensService {
  constructor(private readonly repository: ApiTokensRepository) {}

  /** Checks a bearer token; on success records its use. Never says more than needed about unknown tokens. */
  async authenticate(token: string, now = new Date()): Promise<Authentication> {
    const row = await this.repository.findByHash(hashSecret(token));
    if (!row) return { ok: false, reason: 'unknown API token' };
    if (row.revokedAt) return { ok: false, reason: `API token ${row.id} was revoked` };
    if (row.expiresAt && row.expiresAt <= now) {
      return { ok: false, reason: `API token ${row.id} expired at ${row.expiresAt.toISOString()}` };
    }
    await this.repository.markUsed(row.id);
    return { ok: true, principal: { tokenId: row.id, name: row.name, role: row.role } };
  }

  async create(request: CreateApiTokenDto, creator: Principal | undefined): Promise<CreatedApiTokenDto> {
    const token = newSecret(API_TOKEN_PREFIX);
    const row = await this.repository.insert({
      id: newId('tok_'),
      name: request.name,
      role: request.role,
      tokenHash: hashSecret(token),
      createdBy: creator?.tokenId ?? null,
      expiresAt: request.expiresAt === undefined ? null : new Date(request.expiresAt),
    });
    return { ...toDto(row), token };
  }

  async list(query: ApiTokenListQueryDto): Promise<ApiTokenListDto> {
    const rows = await this.repository.list(query.limit + 1, query.cursor);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => toDto(row)),
      nextCursor: rows.length > query.limit && last ? last.id : null,
    };
  }

  /** Revokes a token (idempotent). Refuses to revoke the last usable admin token: nobody could administer. */
  async revoke(id: string): Promise<ApiTokenDto> {
    const existing = await this.repository.findById(id);
    if (!existing) throw new NotFoundException(`no API token with id ${JSON.stringify(id)}`);
    if (
      existing.role === 'admin' &&
      !existing.revokedAt &&
      (await this.repository.countUsableAdmins(id)) === 0
    ) {
      throw new ConflictException(
        `API token ${id} is the last usable admin token: create another admin token before revoking it`,
      );
    }
    const row = await this.repository.revoke(id);
    if (!row) throw new NotFoundException(`no API token with id ${JSON.stringify(id)}`);
    return toDto(row);
  }
}

export function toDto(row: ApiTokenRow, now = new Date()): ApiTokenDto {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    state: row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt <= now ? 'expired' : 'active',
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
