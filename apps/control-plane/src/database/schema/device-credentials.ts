import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { devices } from './devices';

/**
 * A device's MQTT password (its per-device secret), as the SHA-256 of the secret. The embedded broker checks
 * CONNECT packets against it; a decommissioned device's row is deleted.
 */
export const deviceCredentials = pgTable('device_credentials', {
  deviceId: text('device_id')
    .primaryKey()
    .references(() => devices.id, { onDelete: 'cascade' }),
  secretHash: text('secret_hash').notNull(),
  /** The enrolment token the device used. */
  enrolmentTokenId: text('enrolment_token_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type DeviceCredentialRow = typeof deviceCredentials.$inferSelect;
