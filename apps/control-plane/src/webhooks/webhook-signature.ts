import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-emofleet-signature';
export const TIMESTAMP_HEADER = 'x-emofleet-timestamp';
export const DELIVERY_HEADER = 'x-emofleet-delivery';

/**
 * The signature of a delivery: `v1=` + hex HMAC-SHA256 with the webhook's secret over `<timestamp>.<body>`
 * (timestamp = the `x-emofleet-timestamp` header, Unix seconds; body = the raw request body). Binding the
 * timestamp lets receivers reject replays older than a few minutes.
 */
export function signDelivery(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** The receiver's check (also used by the tests): constant-time comparison of the expected signature. */
export function verifyDeliverySignature(
  secret: string,
  timestampHeader: string,
  body: string,
  signatureHeader: string,
): boolean {
  const timestamp = Number(timestampHeader);
  if (!Number.isSafeInteger(timestamp)) return false;
  const expected = Buffer.from(signDelivery(secret, timestamp, body));
  const given = Buffer.from(signatureHeader);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
