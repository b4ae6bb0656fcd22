// One error type with a stable code, and one handler that turns every error into
// application/problem+json (RFC 9457). Input problems are 4xx; only our own faults are 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    /** More members of the problem, e.g. when a window closed. */
    readonly extra?: Record<string, unknown>,
    /** Response headers that belong to the answer (e.g. Retry-After on a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) => new AppError(400, 'bad_request', detail, errors);
export const unauthorized = (detail = 'Missing or invalid credentials') => new AppError(401, 'unauthorized', detail);
export const forbidden = (detail = 'Your role may not do this') => new AppError(403, 'forbidden', detail);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (detail: string, code = 'conflict') => new AppError(409, code, detail);
export const tooManyRequests = (detail: string, retryAfterSeconds: number, code = 'too_many_requests') =>
  new AppError(429, code, detail, undefined, undefined, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function sendProblem(reply: FastifyReply, status: number, code: string, detail: string, errors?: FieldError[], extra?: Record<string, unknown>) {
  const body: Record<string, unknown> = {
    ...extra,
    type: `https://karigar.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
  };
  if (errors?.length) body.errors = errors;
  return reply.status(status).type('application/problem+json').send(body);
}

/** "/items/0/quantity" -> "items[0].quantity" */
function fieldName(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (missing) parts.push(missing);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

// PostgreSQL errors that can only come from input that got past validation: answer 4xx, not 500.
const PG_INPUT_ERRORS: Record<string, [number, string]> = {
  '22P02': [400, 'invalid value'],
  '22003': [400, 'number out of range'],
  '22001': [400, 'value too long'],
  '23505': [409, 'already exists'],
  '23503': [404, 'referenced record not found'],
  '23514': [409, 'the change breaks a rule of the record'],
};

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_content_length',
};

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError & { code?: string }, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      if (err.headers) reply.headers(err.headers);
      return sendProblem(reply, err.status, err.code, err.message, err.errors, err.extra);
    }

    if (err.validation) {
      const errors = err.validation.map((v: any) => ({
        field: fieldName(v.instancePath ?? '', v.params?.missingProperty) || String(err.validationContext ?? 'body'),
        message: v.message ?? 'is invalid',
      }));
      return sendProblem(reply, 400, 'validation_failed', `Invalid ${err.validationContext ?? 'input'}`, errors);
    }

    const pg = err.code && PG_INPUT_ERRORS[err.code];
    if (pg) {
      req.log.warn({ err }, 'database rejected input');
      return sendProblem(reply, pg[0], 'rejected', pg[1]);
    }

    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = FASTIFY_CODES[err.code ?? ''] ?? (err.code ?? 'bad_request').toLowerCase();
      return sendProblem(reply, status, code, err.message);
    }
    req.log.error({ err }, 'unhandled error');
    return sendProblem(reply, 500, 'internal', 'Something went wrong on our side; the request was not applied');
  });

  app.setNotFoundHandler((req, reply) => sendProblem(reply, 404, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`));
}
