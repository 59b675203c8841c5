import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import { z } from 'zod';
import { type DeviceCapabilities } from '@emofleet/protocol';
import { type EnrolmentRecord } from './enrolment-file';

/** The control plane's `POST /enrol` answer (apps/control-plane/src/enrolment/enrolment.dto.ts). */
const enrolResponseSchema = z.object({
  deviceId: z.string(),
  name: z.string(),
  secret: z.string(),
  mqttUrl: z.string(),
  topicPrefix: z.string(),
  signingPublicKey: z.string(),
  caCertificate: z.string().nullable(),
});

export class EnrolmentError extends Error {
  override readonly name = 'EnrolmentError';
}

export interface EnrolRequest {
  /** Control plane base URL, e.g. https://fleet.example.com */
  readonly server: string;
  readonly token: string;
  readonly name?: string;
  readonly capabilities?: Partial<DeviceCapabilities>;
  /** PEM CA to trust for an https server (first contact: the operator passes it, or the system store is used). */
  readonly caCertificate?: string;
  readonly timeoutMs?: number;
}

/** Exchanges a one-time enrolment token for the device's identity (`POST <server>/enrol`). */
export function enrolDevice(request: EnrolRequest): Promise<EnrolmentRecord> {
  let url: URL;
  try {
    url = new URL('enrol', request.server.endsWith('/') ? request.server : `${request.server}/`);
  } catch {
    return Promise.reject(new EnrolmentError(`--server ${request.server} is not a URL`));
  }
  const body = Buffer.from(
    JSON.stringify({
      token: request.token,
      name: request.name ?? os.hostname(),
      capabilities: request.capabilities,
    }),
  );
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
        ...(request.caCertificate ? { ca: request.caCertificate } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new EnrolmentError(`POST ${url.href} answered HTTP ${status}: ${text.slice(0, 500)}`));
            return;
          }
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            reject(new EnrolmentError(`POST ${url.href}: the answer is not JSON`));
            return;
          }
          const parsed = enrolResponseSchema.safeParse(json);
          if (!parsed.success) {
            reject(
              new EnrolmentError(
                `POST ${url.href}: unexpected answer: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
              ),
            );
            return;
          }
          resolve({ ...parsed.data, server: url.origin, enrolledAt: Date.now() });
        });
      },
    );
    outgoing.setTimeout(request.timeoutMs ?? 30_000, () =>
      outgoing.destroy(new EnrolmentError(`POST ${url.href}: no answer in time`)),
    );
    outgoing.on('error', (error) =>
      reject(
        error instanceof EnrolmentError ? error : new EnrolmentError(`POST ${url.href}: ${error.message}`),
      ),
    );
    outgoing.end(body);
  });
}
