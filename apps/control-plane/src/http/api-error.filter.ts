import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { ZodValidationException } from 'nestjs-zod';
import { ZodError } from 'zod';

/** The one JSON error shape of the API: `{ "error": { "status", "code", "message", "details"? } }`. */
export interface ApiErrorBody {
  error: { status: number; code: string; message: string; details?: unknown };
}

@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    if (response.headersSent) {
      // A streamed response (an artifact download) failed part way: no error body can be sent any more, and the
      // client must not take the bytes so far for the whole; ending the connection tells it.
      const request = http.getRequest<Request>();
      const what = `${request.method} ${request.originalUrl}`;
      if (clientWentAway(exception, request)) {
        this.logger.warn(`${what}: the client closed the connection before the response ended`);
      } else {
        this.logger.error(
          `${what} failed after its response started: ${exception instanceof Error ? exception.stack : String(exception)}`,
        );
      }
      response.destroy();
      return;
    }
    const body = this.toBody(exception);
    if (body.error.status >= 500)
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    response.status(body.error.status).json(body);
  }

  private toBody(exception: unknown): ApiErrorBody {
    if (exception instanceof ZodValidationException) {
      const zodError = exception.getZodError();
      const details =
        zodError instanceof ZodError
          ? zodError.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }))
          : undefined;
      const summary = details?.map((detail) => `${detail.path || '(root)'}: ${detail.message}`).join('; ');
      return error(HttpStatus.BAD_REQUEST, 'validation_failed', summary ?? 'invalid request', details);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'string'
          ? response
          : typeof response === 'object' && 'message' in response
            ? String(response.message)
            : exception.message;
      return error(status, codeFor(status), message);
    }
    const clientError = bodyParserError(exception);
    if (clientError) return error(clientError.status, codeFor(clientError.status), clientError.message);
    return error(HttpStatus.INTERNAL_SERVER_ERROR, 'internal_error', 'internal server error');
  }
}

/** The client closed the connection (aborted a download): not a fault of the control plane. */
function clientWentAway(exception: unknown, request: Request): boolean {
  const code = (exception as { code?: unknown } | null)?.code;
  return (
    code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE' || request.destroyed
  );
}

/**
 * A 4xx raised by Express's body parsers before any handler runs (e.g. `entity.too.large`, `encoding.unsupported`):
 * `http-errors` with `expose` set, meant for the client.
 */
function bodyParserError(exception: unknown): { status: number; message: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { status, expose, type, length, limit } = exception as Error & Record<string, unknown>;
  if (expose !== true || typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (type === 'entity.too.large' && typeof limit === 'number') {
    const size = typeof length === 'number' ? ` of ${length} bytes` : '';
    return { status, message: `request body${size} is too large: the limit is ${limit} bytes` };
  }
  return { status, message: exception.message };
}

function error(status: number, code: string, message: string, details?: unknown): ApiErrorBody {
  return { error: details === undefined ? { status, code, message } : { status, code, message, details } };
}

function codeFor(status: number): string {
  const name = HttpStatus[status];
  return typeof name === 'string' ? name.toLowerCase() : `http_${status}`;
}
