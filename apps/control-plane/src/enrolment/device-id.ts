import { randomBytes } from 'node:crypto';

/**
 * A new device id: a slug of the device's name (so ids stay readable in topics and logs) and 8 random hex
 * digits (so they are unique and not guessable from the name). Always a valid protocol identifier.
 */
export function newDeviceId(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const suffix = randomBytes(4).toString('hex');
  return slug === '' ? `dev-${suffix}` : `${slug}-${suffix}`;
}
