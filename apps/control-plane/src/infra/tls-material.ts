import { readFile } from 'node:fs/promises';
import { type TlsFiles } from '../config/app-config';

/** The PEM contents of the configured TLS files, read once at boot. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The CA certificate, handed to devices at enrolment and trusted by the control plane's own MQTT client. */
  ca: Buffer | undefined;
}

export async function readTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const read = async (key: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new Error(
        `${key}=${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  };
  return {
    cert: await read('TLS_CERT_FILE', files.certFile),
    key: await read('TLS_KEY_FILE', files.keyFile),
    ca: files.caFile === undefined ? undefined : await read('TLS_CA_FILE', files.caFile),
  };
}
