// A fake of every outbound provider API on one local HTTP server, so no test ever talks to Meta,
// Twilio or Telegram. Point the providers at `${fake.url}/meta`, `${fake.url}/twilio` and
// `${fake.url}/telegram`. Every request is recorded; by default each one gets the success answer of
// the API its path belongs to, and `queue()` makes the next requests answer otherwise.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  /** Path and query as received, e.g. /meta/123/messages. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the form as an object, or the raw text when neither. */
  body: any;
  raw: string;
  /** Date.now() when the request arrived. */
  receivedAt: number;
}

export interface FakeResponse {
  status: number;
  /** An object is sent as JSON; a string is sent as it is (an HTML error page, say). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (to trip a client timeout). */
  delayMs?: number;
  /** Drop the connection without answering. */
  destroy?: boolean;
}

export interface FakeProvider {
  url: string;
  requests: FakeRequest[];
  /** The next `times` requests get this answer instead of the default success. */
  queue(response: FakeResponse, times?: number): void;
  /** Forgets recorded requests and queued answers. */
  clear(): void;
  close(): Promise<void>;
}

export async function startFakeProvider(): Promise<FakeProvider> {
  const requests: FakeRequest[] = [];
  let queued: FakeResponse[] = [];
  let counter = 0;
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const recorded: FakeRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: parseBody(raw, req.headers['content-type']), raw, receivedAt: Date.now() };
      requests.push(recorded);
      const n = ++counter;
      const answer = queued.shift() ?? defaultAnswer(recorded, n);
      if (answer.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          respond(res, answer);
        }, answer.delayMs);
        timers.add(t);
      } else {
        respond(res, answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    queue(response, times = 1) {
      for (let i = 0; i < times; i++) queued.push(response);
    },
    clear() {
      requests.length = 0;
      queued = [];
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseBody(raw: string, contentType: string | undefined): any {
  if (!raw) return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function respond(res: ServerResponse, answer: FakeResponse) {
  if (res.destroyed) return;
  if (answer.destroy) {
    res.socket?.destroy();
    return;
  }
  const isText = typeof answer.body === 'string';
  const payload = answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': isText ? 'text/html; charset=utf-8' : 'application/json',
    ...answer.headers,
  });
  res.end(payload);
}

/** The success answer of whichever API the path belongs to. */
function defaultAnswer(req: FakeRequest, n: number): FakeResponse {
  if (req.method === 'GET') return checkAnswer(req);
  if (req.path.startsWith('/twilio/')) {
    return { status: 201, body: { sid: `SM${String(n).padStart(32, '0')}`, status: 'queued', to: req.body?.To ?? null, error_code: null } };
  }
  if (req.path.startsWith('/telegram/')) {
    return { status: 200, body: { ok: true, result: { message_id: n, chat: { id: req.body?.chat_id }, date: Math.floor(Date.now() / 1000), text: req.body?.text } } };
  }
  if (req.path.startsWith('/meta/')) {
    if (req.body?.messaging_product === 'whatsapp') {
      const to = String(req.body.to ?? '');
      return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to.replace(/^\+/, '') }], messages: [{ id: `wamid.${n}` }] } };
    }
    return { status: 200, body: { recipient_id: req.body?.recipient?.id ?? null, message_id: `m_${n}` } };
  }
  return { status: 404, body: { error: `the fake provider has no API at ${req.path}` } };
}

/** A Graph API error body (WhatsApp, Messenger, Instagram). */
export function metaError(code: number, message: string, details?: string) {
  return {
    error: {
      message,
      type: 'OAuthException',
      code,
      ...(details ? { error_data: { messaging_product: 'whatsapp', details } } : {}),
      fbtrace_id: 'AfakeTrace',
    },
  };
}

/** A Bot API error body; `retry_after` (seconds) goes in `parameters` as Telegram sends it on 429. */
export function telegramError(code: number, description: string, retry_after?: number) {
  return { ok: false, error_code: code, description, ...(retry_after === undefined ? {} : { parameters: { retry_after } }) };
}

/** A Twilio REST error body; `status` is the HTTP status Twilio answers with. */
export function twilioError(code: number, message: string, status: number) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/**
 * The credentials checks: Meta's phone number (or page / Instagram account) read, Twilio's account
 * read and Telegram's getMe, answered as the real APIs answer a valid token.
 */
function checkAnswer(req: FakeRequest): FakeResponse {
  const url = new URL(req.path, 'http://fake');
  const meta = /^\/meta\/([^/]+)$/.exec(url.pathname);
  if (meta) {
    const fields = (url.searchParams.get('fields') ?? '').split(',');
    if (fields.includes('display_phone_number')) {
      return { status: 200, body: { display_phone_number: '+1 555-123-4567', verified_name: 'Sweet Crumbs Test', quality_rating: 'GREEN', id: meta[1] } };
    }
    return { status: 200, body: { id: meta[1] === 'me' ? '1000001' : meta[1], name: 'Sweet Crumbs Page', ...(fields.includes('username') ? { username: 'sweetcrumbs' } : {}) } };
  }
  const twilio = /^\/twilio\/2010-04-01\/Accounts\/([^/]+)\.json$/.exec(url.pathname);
  if (twilio) {
    return { status: 200, body: { sid: decodeURIComponent(twilio[1]), friendly_name: 'Sweet Crumbs', status: 'active', type: 'Full' } };
  }
  if (/^\/telegram\/bot[^/]+\/getMe$/.test(url.pathname)) {
    return { status: 200, body: { ok: true, result: { id: 7000001, is_bot: true, first_name: 'Sweet Crumbs Bot', username: 'sweetcrumbs_bot' } } };
  }
  return { status: 404, body: { error: `the fake provider has no API at ${req.path}` } };
}
