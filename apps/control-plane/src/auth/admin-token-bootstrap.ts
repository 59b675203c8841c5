import { Inject, Injectable } from '@nestjs/common';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ApiTokensRepository } from './api-tokens.repository';
import { API_TOKEN_PREFIX } from './api-tokens.service';
import { hashSecret, newId, newSecret } from './token-secret';

/** Id of the admin token that EMOFLEET_ADMIN_TOKEN configures (so it can be audited and revoked like others). */
export const CONFIGURED_ADMIN_TOKEN_ID = 'tok_configured_admin';

export type AdminTokenBootstrapResult =
  | { source: 'configured' }
  | { source: 'existing' }
  | { source: 'generated'; token: string; file: string };

/**
 * Makes sure someone can administer the control plane: the token from EMOFLEET_ADMIN_TOKEN when set; else,
 * when no usable admin token exists (first start, or every admin token revoked or expired), a new one, which
 * the caller prints once in the boot log and which is written to `<dataDir>/admin-token` with mode 0600.
 */
@Injectable()
export class AdminTokenBootstrap {
  constructor(
    private readonly repository: ApiTokensRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async ensureAdminToken(): Promise<AdminTokenBootstrapResult> {
    if (this.config.adminToken !== undefined) {
      await this.repository.upsertConfiguredAdmin(
        CONFIGURED_ADMIN_TOKEN_ID,
        'EMOFLEET_ADMIN_TOKEN',
        hashSecret(this.config.adminToken),
      );
      return { source: 'configured' };
    }
    const token = newSecret(API_TOKEN_PREFIX);
    const inserted = await this.repository.insertIfNoUsableAdmin({
      id: newId('tok_'),
      name: 'initial-admin',
      role: 'admin',
      tokenHash: hashSecret(token),
      createdBy: null,
      expiresAt: null,
    });
    if (!inserted) return { source: 'existing' };
    const file = join(this.config.dataDir, 'admin-token');
    await mkdir(this.config.dataDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    // writeFile's mode applies only when it creates the file: tighten a file left by an earlier start too.
    await chmod(file, 0o600);
    return { source: 'generated', token, file };
  }
}
