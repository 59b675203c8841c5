import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import busboy from 'busboy';
import type { Request } from 'express';
import { type ArtifactStore, ArtifactTooLargeError } from '../artifacts/artifact-store';
import { type UploadLimits } from '../config/app-config';
import {
  isModelUploadField,
  MODEL_UPLOAD_FIELDS,
  type ReceivedFile,
  type ReceivedFiles,
  sizeLimitFor,
} from './model-upload-files';

export interface ReceivedUpload {
  files: ReceivedFiles;
  /** Text fields, each possibly repeated (e.g. `transform`). */
  fields: Record<string, string[]>;
}

const MAX_TEXT_FIELDS = 32;
const MAX_TEXT_FIELD_BYTES = 4096;

/**
 * Streams a multipart model upload part by part straight into the artifact store (each file hashed on the way,
 * never held in memory), enforcing each file's size limit. On any failure the blobs this request created are
 * removed again (via `discard`) and the error names the field.
 */
export async function receiveMultipartModelUpload(
  request: Request,
  store: ArtifactStore,
  limits: UploadLimits,
  discard: (files: ReceivedFile[]) => Promise<void>,
): Promise<ReceivedUpload> {
  if (!request.is('multipart/form-data')) {
    throw new BadRequestException(
      `send the model files as multipart/form-data (fields ${MODEL_UPLOAD_FIELDS.join(', ')})`,
    );
  }
  const parser = busboy({
    headers: request.headers,
    limits: {
      files: MODEL_UPLOAD_FIELDS.length,
      fields: MAX_TEXT_FIELDS,
      fieldSize: MAX_TEXT_FIELD_BYTES,
      parts: MAX_TEXT_FIELDS + MODEL_UPLOAD_FIELDS.length,
    },
  });
  const files: ReceivedFiles = {};
  const fields: Record<string, string[]> = {};
  const pending: Array<Promise<void>> = [];
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
  };

  parser.on('file', (field, stream, info) => {
    if (!isModelUploadField(field)) {
      fail(
        new BadRequestException(`unknown file field "${field}" (expected ${MODEL_UPLOAD_FIELDS.join(', ')})`),
      );
      stream.resume();
      return;
    }
    if (files[field] !== undefined || failure) {
      if (!failure) fail(new BadRequestException(`file field "${field}" given twice`));
      stream.resume();
      return;
    }
    const maxBytes = sizeLimitFor(field, limits);
    pending.push(
      store.put(stream, { maxBytes }).then(
        (stored) => {
          files[field] = { field, fileName: info.filename || field, ...stored };
        },
        (error: unknown) => {
          stream.resume();
          fail(
            error instanceof ArtifactTooLargeError
              ? new PayloadTooLargeException(
                  `${field} (${info.filename}) is larger than the limit of ${maxBytes} bytes`,
                )
              : error instanceof Error
                ? error
                : new Error(String(error)),
          );
        },
      ),
    );
  });
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated)
      fail(new BadRequestException(`field "${name}" is longer than ${MAX_TEXT_FIELD_BYTES} bytes`));
    (fields[name] ??= []).push(value);
  });
  parser.on('filesLimit', () =>
    fail(
      new BadRequestException(
        `at most ${MODEL_UPLOAD_FIELDS.length} files (${MODEL_UPLOAD_FIELDS.join(', ')})`,
      ),
    ),
  );
  parser.on('fieldsLimit', () => fail(new BadRequestException(`at most ${MAX_TEXT_FIELDS} text fields`)));
  parser.on('partsLimit', () => fail(new BadRequestException('too many parts')));

  await new Promise<void>((resolve) => {
    parser.on('close', () => resolve());
    parser.on('error', (error: Error) => {
      fail(new BadRequestException(`malformed multipart body: ${error.message}`));
      resolve();
    });
    request.on('aborted', () => {
      fail(new BadRequestException('the upload was aborted by the client'));
      resolve();
    });
    request.pipe(parser);
  });
  await Promise.allSettled(pending);
  if (failure) {
    request.unpipe(parser);
    request.resume();
    await discard(Object.values(files));
    throw failure;
  }
  return { files, fields };
}
