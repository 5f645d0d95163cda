import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { DomainError, ErrorKind, FieldProblem } from '@tally/common';

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_many: 429,
};

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  fields?: FieldProblem[];
  errorId?: string;
  [key: string]: unknown;
}

/**
 * The one place errors become HTTP. Domain errors map by kind; Nest's own HTTP exceptions and
 * body-parser errors keep their 4xx status; PostgreSQL's "invalid input syntax" (a malformed id
 * that slipped past validation) is a 400; anything else is a 500 with an id that is logged.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(err);
    if (res.headersSent) return;
    if (typeof body.retryAfterSeconds === 'number') res.setHeader('Retry-After', String(body.retryAfterSeconds));
    res.status(body.statusCode).json(body);
  }

  toBody(err: unknown): ErrorBody {
    // Nest wraps body-parser's errors (too large, malformed JSON) in an HttpException: use the original.
    const cause = err instanceof HttpException ? (err.cause as { type?: unknown } | undefined) : undefined;
    if (typeof cause?.type === 'string' && cause.type.startsWith('entity.')) err = cause;
    if (err instanceof DomainError) {
      const { fields, ...rest } = err.details ?? {};
      return { statusCode: STATUS[err.kind], code: err.code, message: err.message, ...(fields ? { fields } : {}), ...rest };
    }
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const r = err.getResponse() as string | { message?: string | string[]; code?: string; fields?: FieldProblem[] };
      const message = typeof r === 'string' ? r : Array.isArray(r.message) ? r.message.join('; ') : (r.message ?? err.message);
      return {
        statusCode: status,
        code: (typeof r === 'object' && r.code) || HttpStatus[status] || 'ERROR',
        message,
        ...(typeof r === 'object' && r.fields ? { fields: r.fields } : {}),
      };
    }
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string; code?: string; limit?: number; driverError?: { code?: string } };
    const status = e?.status ?? e?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser: entity.parse.failed, entity.too.large, ...
      const code = (e.type ?? 'BAD_REQUEST').toUpperCase().replace(/\W+/g, '_');
      const message =
        e.type === 'entity.parse.failed'
          ? `body: not valid JSON (${e.message})`
          : e.type === 'entity.too.large'
            ? `body: larger than the ${e.limit} bytes this endpoint accepts`
            : (e.message ?? 'Bad request');
      return { statusCode: status, code, message };
    }
    const pgCode = e?.driverError?.code ?? e?.code;
    if (pgCode === '22P02' || pgCode === '22003') {
      return { statusCode: 400, code: 'INVALID_VALUE', message: 'A value in the request has the wrong format' };
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err }, (err as Error)?.stack ?? String(err));
    return { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Something went wrong on our side', errorId };
  }
}
