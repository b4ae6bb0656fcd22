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
  414: 'URI Too Long',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** The problem+json body of an answer (RFC 9457). */
export function problemBody(status: number, code: string, detail: string, errors?: FieldError[], extra?: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...extra,
    type: `https://karigar.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
  };
  if (errors?.length) body.errors = errors;
  return body;
}

export function sendProblem(reply: FastifyReply, status: number, code: string, detail: string, errors?: FieldError[], extra?: Record<string, unknown>) {
  return reply.status(status).type('application/problem+json').send(problemBody(status, code, detail, errors, extra));
}

/** An answer to an error: its status, its headers and its problem+json body. */
export interface Problem { status: number; headers?: Record<string, string>; body: Record<string, unknown> }

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
  // Text PostgreSQL cannot store (a NUL character, an invalid byte sequence): the edge refuses it
  // first (rejectUnstorableText); this is the backstop.
  '22021': [400, 'text contains a character that cannot be stored'],
  '22P05': [400, 'text contains a character that cannot be stored'],
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
  FST_ERR_BAD_URL: 'bad_url',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
  FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
};

/**
 * What may be logged about a database error: its SQLSTATE, constraint and table — never the error
 * object itself (the embedded database attaches the query's parameters to it, a password hash say).
 */
export function dbErrorFields(err: unknown): Record<string, unknown> {
  const e = err as { code?: unknown; constraint?: unknown; table?: unknown; severity?: unknown; routine?: unknown };
  return { sqlstate: e?.code, constraint: e?.constraint, table: e?.table, severity: e?.severity, routine: e?.routine };
}

/** A loggable description of an unexpected error: its class, code and a bounded, parameter-free message. */
export function safeErrorFields(err: unknown): Record<string, unknown> {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown };
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return { error: 'database', ...dbErrorFields(err) };
  // The message of a non-database error is ours; bound it, and keep the stack's frames only.
  const frames = typeof e?.stack === 'string' ? e.stack.split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8).join('\n') : undefined;
  return { error: typeof e?.name === 'string' ? e.name : typeof err, code: e?.code, message: String(e?.message ?? '').slice(0, 200), frames };
}

/**
 * The first string in `value` that PostgreSQL cannot store as text (a NUL, or a lone surrogate that
 * has no UTF-8 form), as the path of the field that holds it; object keys count too.
 */
export function unstorableTextAt(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return hasUnstorable(value) ? path || 'value' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = unstorableTextAt(value[i], `${path}[${i}]`);
      if (at) return at;
    }
    return undefined;
  }
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) {
      const name = path ? `${path}.${k}` : k;
      if (hasUnstorable(k)) return name;
      const at = unstorableTextAt(v, name);
      if (at) return at;
    }
  }
  return undefined;
}

// A NUL, or a UTF-16 surrogate without its partner (JSON's "\ud800" parses to one).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const hasUnstorable = (s: string) => UNSTORABLE.test(s);

/** The text without NULs and lone surrogates (for provider payloads we must accept as they are). */
export const withoutUnstorable = (s: string) => s.replace(new RegExp(UNSTORABLE.source, 'g'), '');

/**
 * Refuses, before validation, a request whose query string, path parameters or JSON body holds text
 * PostgreSQL cannot store: 400 `unstorable_text` naming the field. Webhook bodies are raw bytes and
 * are not looked at here (the webhook strips what it must accept).
 */
export function rejectUnstorableText(app: FastifyInstance) {
  app.addHook('preValidation', async (req) => {
    for (const [part, value] of [['query', req.query], ['params', req.params], ['body', req.body]] as const) {
      if (Buffer.isBuffer(value)) continue;
      const at = unstorableTextAt(value);
      if (at) {
        throw new AppError(400, 'unstorable_text', `The ${part} holds a character that cannot be stored (a NUL or an unpaired surrogate)`,
          [{ field: at, message: 'contains a character that cannot be stored (NUL or an unpaired surrogate)' }]);
      }
    }
  });
}

/**
 * What every error is answered with, wherever it is met (a route, or the webhook lane, which answers
 * outside Fastify): input problems are 4xx, only our own faults are 500 and logged.
 */
export function problemFor(err: FastifyError & { code?: string }, log: { warn(o: object, m: string): void; error(o: object, m: string): void }): Problem {
  if (err instanceof AppError) {
    return { status: err.status, headers: err.headers, body: problemBody(err.status, err.code, err.message, err.errors, err.extra) };
  }

  if (err.validation) {
    const errors = err.validation.map((v: any) => ({
      field: fieldName(v.instancePath ?? '', v.params?.missingProperty) || String(err.validationContext ?? 'body'),
      message: v.message ?? 'is invalid',
    }));
    return { status: 400, body: problemBody(400, 'validation_failed', `Invalid ${err.validationContext ?? 'input'}`, errors) };
  }

  const pg = err.code && PG_INPUT_ERRORS[err.code];
  if (pg) {
    log.warn(dbErrorFields(err), 'database rejected input');
    return { status: pg[0], body: problemBody(pg[0], 'rejected', pg[1]) };
  }

  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = FASTIFY_CODES[err.code ?? ''] ?? (err.code ?? 'bad_request').toLowerCase();
    return { status, body: problemBody(status, code, frameworkDetail(code, err.message)) };
  }
  log.error(safeErrorFields(err), 'unhandled error');
  return { status: 500, body: problemBody(500, 'internal', 'Something went wrong on our side; the request was not applied') };
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError & { code?: string }, req: FastifyRequest, reply: FastifyReply) => {
    const p = problemFor(err, req.log);
    if (p.headers) reply.headers(p.headers);
    return reply.status(p.status).type('application/problem+json').send(p.body);
  });

  app.setNotFoundHandler((req, reply) => sendProblem(reply, 404, 'not_found', `No route ${req.method} ${boundedPath(req.url)}`));
}

/** The path of a URL without its query, cut short: it is echoed in answers. */
const boundedPath = (url: string) => {
  const path = url.split('?')[0];
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
};

/** Fastify's own messages echo the URL (bad escapes, a 5,000-character segment): say it without. */
function frameworkDetail(code: string, message: string): string {
  switch (code) {
    case 'bad_url': return 'The URL holds a malformed percent-escape or invalid UTF-8';
    case 'uri_too_long': return 'A segment of the URL is too long';
    default: return message.length > 300 ? `${message.slice(0, 300)}…` : message;
  }
}

/**
 * Errors Fastify meets before a route runs (a bad URL, a too-long path segment, a body it cannot
 * parse): the same problem+json as every other answer. Passed as Fastify's `frameworkErrors`.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  const code = FASTIFY_CODES[err.code ?? ''] ?? 'bad_request';
  return sendProblem(reply, status, code, frameworkDetail(code, err.message ?? ''));
}
