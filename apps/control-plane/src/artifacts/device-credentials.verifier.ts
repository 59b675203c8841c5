import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { secretMatches } from '../auth/token-secret';
import { DatabaseAdapter } from '../database/database.adapter';
import { deviceCredentials } from '../database/schema';
import { type DeviceCredentialsVerifier } from './artifact-requester';

/** Checks a device secret against the hash enrolment stored in `device_credentials`. */
@Injectable()
export class DatabaseDeviceCredentialsVerifier implements DeviceCredentialsVerifier {
  constructor(private readonly database: DatabaseAdapter) {}

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
