// The one HTTP call every provider makes: POST (a send) or GET (a credentials check) with a
// whole-request timeout, the answer read as text and parsed as JSON when it is JSON. Network errors and timeouts come back as values, with any
// secret that could appear in an error message (a Telegram token lives in the URL) scrubbed out.
// node:http(s), not fetch: the server already holds node:http, and fetch (undici) would add about
// 10 MB of resident memory to every worker for the same requests.
import http from 'node:http';
import https from 'node:https';
import type { SendResult } from './provider.js';

/** A response's headers, read by name (case-insensitive). */
export interface ResponseHeaders { get(name: string): string | null }

export type HttpOutcome =
  | { type: 'response'; status: number; headers: ResponseHeaders; body: any; raw: string }
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

/** A provider's answer is a small JSON document: a larger one is not read further (see request()). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

// Connections to each provider stay open between sends.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

export function post(req: PostRequest): Promise<HttpOutcome> {
  return request('POST', req);
}

export function get(req: GetRequest): Promise<HttpOutcome> {
  return request('GET', req);
}

function request(method: 'GET' | 'POST', req: GetRequest & { body?: string }, fresh = false): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (out: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(out.type === 'network' ? scrub(out, req.secrets) : out);
    };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return finish({ type: 'network', code: 'bad_url', message: 'the provider URL is not a URL' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return finish({ type: 'network', code: 'bad_url', message: `unsupported protocol ${url.protocol}` });
    const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
    const headers = { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const r = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent: fresh ? false : agents[url.protocol] }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        // Never followed (a provider does not redirect an API call; a redirect could carry the request elsewhere).
        res.resume();
        return finish({ type: 'network', code: 'redirect', message: `redirected (HTTP ${status}); not followed` });
      }
      const h = res.headers;
      const headers: ResponseHeaders = { get: (name) => { const v = h[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v; } };
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        chunks.push(c);
        if (size > MAX_RESPONSE_BYTES) {
          // Not read further, and not JSON to us: judged by its status alone (a 2xx without the id we
          // need is not retried, since the message may have gone).
          res.destroy();
          finish({ type: 'response', status, headers, body: null, raw: Buffer.concat(chunks).toString('utf8', 0, 1000) });
        }
      });
      res.on('error', (err) => finish(networkFailure(err)));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let parsed: any = null;
        try {
          parsed = raw ? JSON.parse(raw) : null;
        } catch {
          /* not JSON (an HTML error page from a proxy, say): classified by status */
        }
        finish({ type: 'response', status, headers, body: parsed, raw });
      });
    });
    // The whole request: connecting, sending, the headers and the body.
    timer = setTimeout(() => {
      finish({ type: 'network', code: 'timeout', message: `no answer within ${req.timeoutMs} ms` });
      r.destroy();
    }, req.timeoutMs);
    r.on('error', (err) => {
      // A kept-alive connection the provider closed while it sat idle fails the next request before
      // any answer (ECONNRESET, EPIPE). A GET (a credentials check) goes once more, on a connection
      // of its own. A send does not: the provider may have taken it before the connection dropped,
      // so it fails as a network error and the queue retries it (its key keeps a repeat to one).
      const code = (err as { code?: string }).code;
      if (method === 'GET' && !fresh && !settled && r.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
        settled = true;
        clearTimeout(timer);
        resolve(request(method, req, true));
        return;
      }
      finish(networkFailure(err));
    });
    r.end(body);
  });
}

function networkFailure(err: unknown): Extract<HttpOutcome, { type: 'network' }> {
  const e = err as { code?: string; message?: string };
  return { type: 'network', code: typeof e?.code === 'string' ? e.code : 'network_error', message: e?.message ?? String(err) };
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
export function retryAfterMs(headers: ResponseHeaders): number | undefined {
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
