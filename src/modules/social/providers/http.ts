// The one HTTP call every provider makes: POST (a send) or GET (a credentials check) with a
// whole-request timeout, the answer read as text and parsed as JSON when it is JSON. Network errors and timeouts come back as values, with any
// secret that could appear in an error message (a Telegram token lives in the URL) scrubbed out.
import type { SendResult } from './provider.js';

export type HttpOutcome =
  | { type: 'response'; status: number; headers: Headers; body: any; raw: string }
  | { type: 'network'; code: string; message: string };

export interface PostRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Strings that must never appear in a returned message. */
  secrets?: (string | null | undefined)[];
}

export type GetRequest = Omit<PostRequest, 'body'>;

export function post(req: PostRequest): Promise<HttpOutcome> {
  return request('POST', req);
}

export function get(req: GetRequest): Promise<HttpOutcome> {
  return request('GET', req);
}

async function request(method: 'GET' | 'POST', req: GetRequest & { body?: string }): Promise<HttpOutcome> {
  try {
    const res = await fetch(req.url, {
      method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs),
      redirect: 'error',
    });
    const raw = await res.text();
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      /* not JSON (an HTML error page from a proxy, say): classified by status */
    }
    return { type: 'response', status: res.status, headers: res.headers, body, raw };
  } catch (err) {
    return scrub(networkFailure(err, req.timeoutMs), req.secrets);
  }
}

function networkFailure(err: unknown, timeoutMs: number): Extract<HttpOutcome, { type: 'network' }> {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') {
    return { type: 'network', code: 'timeout', message: `no answer within ${timeoutMs} ms` };
  }
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : 'network_error';
  const message = e?.cause?.message ?? e?.message ?? String(err);
  return { type: 'network', code, message };
}

function scrub<T extends { message: string }>(out: T, secrets: PostRequest['secrets']): T {
  return { ...out, message: redact(out.message, secrets) };
}

/** The text with every secret (and its URL-encoded form) replaced by [redacted]. */
export function redact(text: string, secrets: PostRequest['secrets']): string {
  let out = text;
  for (const s of secrets ?? []) {
    if (!s) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date), when the answer carries one. */
export function retryAfterMs(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Always full E.164 with '+': without it WhatsApp prefixes the business number's country code. */
export function e164(to: string): string {
  const compact = to.replace(/[\s()-]/g, '');
  return compact.startsWith('+') ? compact : `+${compact}`;
}

export function httpMessage(out: Extract<HttpOutcome, { type: 'response' }>): string {
  const text = out.raw.replace(/\s+/g, ' ').trim().slice(0, 200);
  return `HTTP ${out.status}${text ? `: ${text}` : ''}`;
}

/** A 2xx without the id we need: the send may have happened, so it is not retried. */
export function badResponse(out: Extract<HttpOutcome, { type: 'response' }>): Extract<SendResult, { ok: false }> {
  return { ok: false, kind: 'permanent', code: 'bad_response', message: `accepted without a message id (${httpMessage(out)})` };
}
