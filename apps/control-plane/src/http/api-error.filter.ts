import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
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
    const response = host.switchToHttp().getResponse<Response>();
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
    return error(HttpStatus.INTERNAL_SERVER_ERROR, 'internal_error', 'internal server error');
  }
}

function error(status: number, code: string, message: string, details?: unknown): ApiErrorBody {
  return { error: details === undefined ? { status, code, message } : { status, code, message, details } };
}

function codeFor(status: number): string {
  const name = HttpStatus[status];
  return typeof name === 'string' ? name.toLowerCase() : `http_${status}`;
}
