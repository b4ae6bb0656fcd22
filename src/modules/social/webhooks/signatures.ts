// Webhook signature checks: pure functions over the raw request bytes, constant-time compares.
//
// - Meta (WhatsApp Cloud, Messenger, Instagram): `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256
//   of the exact bytes received (Meta sends unicode escaped as \u00e9 and / as \/: hashing
//   re-serialised JSON breaks on such text, so never hash a parsed body).
// - Twilio: `X-Twilio-Signature`, base64 HMAC-SHA1 of the URL Twilio requested followed by every
//   form field's name and value (decoded), sorted by name, then by value for repeated names.
// - Telegram: `X-Telegram-Bot-Api-Secret-Token` equal to the secret given to setWebhook (no HMAC).
//
// Every verifier answers false, never throws, for a missing, malformed or wrong header, and for an
// empty secret (anyone can compute an HMAC with an empty key).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const META_PREFIX = 'sha256=';
const META_HEX = /^[0-9a-fA-F]{64}$/;

/** The `X-Hub-Signature-256` value Meta would send for this body: `sha256=<64 lowercase hex>`. */
export function signMeta(rawBody: Buffer, secret: string): string {
  return META_PREFIX + createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** True when `header` is `sha256=<hex>` (either hex case) of HMAC-SHA256(secret, rawBody). */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (typeof header !== 'string' || !secret || !Buffer.isBuffer(rawBody)) return false;
  if (!header.startsWith(META_PREFIX)) return false;
  const hex = header.slice(META_PREFIX.length);
  if (!META_HEX.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Form fields as received: an object (a repeated field as an array of values, as form parsers
 * give it) or the name/value pairs in order (`[string, string][]`, `URLSearchParams`).
 */
export type TwilioParams =
  | Record<string, string | readonly string[] | undefined>
  | Iterable<readonly [string, string]>;

/** The `X-Twilio-Signature` Twilio would send for a POST of these form fields to `url`. */
export function signTwilio(url: string, params: TwilioParams, authToken: string): string {
  return twilioDigest(url, sortedPairs(params), authToken);
}

/**
 * True when `header` is Twilio's signature of `url` + the sorted form fields. `url` is the full
 * public URL Twilio requested, query string included; it is also tried with the scheme's default
 * port added or removed (`:443`, `:80`), as Twilio may sign either form. For a GET, or a JSON body
 * signed through `?bodySHA256=`, pass no params.
 */
export function verifyTwilioSignature(
  url: string,
  params: TwilioParams,
  header: string | undefined,
  authToken: string,
): boolean {
  if (typeof header !== 'string' || header.length === 0 || !authToken || typeof url !== 'string') return false;
  let pairs: [string, string][];
  try {
    pairs = sortedPairs(params);
  } catch {
    return false;
  }
  // The official SDKs drop identical repeated name=value pairs; keep both readings.
  const pairVariants = [pairs];
  const unique = dedupe(pairs);
  if (unique.length !== pairs.length) pairVariants.push(unique);

  const given = Buffer.from(header, 'utf8');
  let ok = false;
  for (const candidate of urlVariants(url)) {
    for (const p of pairVariants) {
      const expected = Buffer.from(twilioDigest(candidate, p, authToken), 'utf8');
      // No early exit: every candidate is computed and compared whatever the outcome.
      if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
    }
  }
  return ok;
}

/** True when the `X-Telegram-Bot-Api-Secret-Token` header equals the configured secret. */
export function verifyTelegramSecret(header: string | undefined, secret: string): boolean {
  if (typeof header !== 'string' || header.length === 0 || !secret) return false;
  // Hash both sides so the compare takes the same time whatever the lengths.
  const a = createHash('sha256').update(header, 'utf8').digest();
  const b = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function twilioDigest(url: string, pairs: readonly (readonly [string, string])[], authToken: string): string {
  const hmac = createHmac('sha1', authToken).update(url, 'utf8');
  for (const [name, value] of pairs) hmac.update(name, 'utf8').update(value, 'utf8');
  return hmac.digest('base64');
}

function sortedPairs(params: TwilioParams): [string, string][] {
  const pairs: [string, string][] = [];
  if (params == null) return pairs;
  if (isIterable(params)) {
    for (const [name, value] of params) pairs.push([String(name), String(value ?? '')]);
  } else {
    for (const [name, value] of Object.entries(params)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) pairs.push([name, String(v)]);
      else pairs.push([name, String(value)]);
    }
  }
  return pairs.sort((x, y) => compare(x[0], y[0]) || compare(x[1], y[1]));
}

function dedupe(sorted: [string, string][]): [string, string][] {
  return sorted.filter((p, i) => i === 0 || p[0] !== sorted[i - 1][0] || p[1] !== sorted[i - 1][1]);
}

function isIterable(v: unknown): v is Iterable<readonly [string, string]> {
  return typeof v === 'object' && v !== null && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** The URL as given, then with the scheme's default port removed or added. Query left untouched. */
function urlVariants(url: string): string[] {
  const out = [url];
  const m = /^([a-z][a-z0-9+.-]*:)\/\/([^/?#]*)(.*)$/is.exec(url);
  if (!m) return out;
  const [, scheme, authority, rest] = m;
  const port = DEFAULT_PORTS[scheme.toLowerCase()];
  if (!port) return out;
  const hasPort = /:(\d*)$/.exec(authority);
  if (hasPort) {
    if (hasPort[1] === port) out.push(`${scheme}//${authority.slice(0, hasPort.index)}${rest}`);
  } else if (authority.length > 0) {
    out.push(`${scheme}//${authority}:${port}${rest}`);
  }
  return out;
}
