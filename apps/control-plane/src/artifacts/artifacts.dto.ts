import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const signingKeySchema = z.object({
  algorithm: z.literal('ed25519'),
  /** SPKI PEM; verify manifests with libs/protocol's `verifyManifestSignature`. */
  publicKeyPem: z.string(),
});

export class SigningKeyDto extends createZodDto(signingKeySchema) {}
