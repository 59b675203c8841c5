import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { secretMatches } from '../auth/token-secret';
import { DatabaseAdapter } from '../database/database.adapter';
import { deviceCredentials } from '../database/schema';

/**
 * The stored (hashed) per-device secrets. Rows are written by enrolment and deleted by decommissioning, each in
 * its own transaction (see EnrolmentRepository and DevicesRepository).
 */
@Injectable()
export class DeviceCredentialsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Whether `secret` is the current secret of `deviceId` (constant-time comparison of the hashes). */
  async verify(deviceId: string, secret: string): Promise<boolean> {
    const rows = await this.database.db
      .select({ secretHash: deviceCredentials.secretHash })
      .from(deviceCredentials)
      .where(eq(deviceCredentials.deviceId, deviceId))
      .limit(1);
    const stored = rows[0]?.secretHash;
    return stored !== undefined && secretMatches(secret, stored);
  }
}
