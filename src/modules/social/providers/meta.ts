// WhatsApp Cloud API (Meta Graph API): POST /<phone_number_id>/messages with a bearer token.
// Errors are classified by `error.code` (Meta: "build logic on error.code + error_data.details, not
// titles/HTTP status"); the HTTP status only decides when the answer carries no Meta error.
import { checkFailure, type CheckResult, type OutboundMessage, type Provider, type ProviderChannel, type SendFailureKind, type SendResult } from './provider.js';
import { badResponse, e164, get, httpMessage, post, retryAfterMs, trimSlash, type HttpOutcome } from './http.js';

/** Temporary: retry with backoff (throughput, pair rate, app/WABA rate limits, unknown, maintenance). */
export const META_TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057]);
/** The token failed or expired: stop sending on this channel until it is re-issued. */
export const META_AUTH_CODES: ReadonlySet<number> = new Set([0, 190]);
/** Outside the 24-hour customer service window: only an approved template may be sent. */
export const META_WINDOW_CODES: ReadonlySet<number> = new Set([131047]);

export function createMetaProvider(baseUrl: string, timeoutMs: number): Provider {
  const base = trimSlash(baseUrl);
  return {
    name: 'meta',
    async send(channel: ProviderChannel, msg: OutboundMessage): Promise<SendResult> {
      if (!channel.account_id || !channel.api_key) {
        return { ok: false, kind: 'auth', code: 'missing_credentials', message: 'the channel has no phone number id (account_id) or access token (api_key)' };
      }
      const out = await post({
        url: `${base}/${encodeURIComponent(channel.account_id)}/messages`,
        headers: { authorization: `Bearer ${channel.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify(whatsappBody(msg)),
        timeoutMs,
        secrets: [channel.api_key, channel.api_secret],
      });
      if (out.type === 'response' && out.status >= 200 && out.status < 300) {
        const id = out.body?.messages?.[0]?.id;
        return typeof id === 'string' && id
          ? { ok: true, provider_message_id: id }
          : badResponse(out);
      }
      return classifyMetaFailure(out);
    },
    // Reads the phone number the token is meant to send from: a wrong id or an expired token fails here.
    async check(channel: ProviderChannel): Promise<CheckResult> {
      if (!channel.account_id || !channel.api_key) {
        return { ok: false, kind: 'permanent', code: 'missing_credentials', message: 'the channel has no phone number ID (account_id) or access token (api_key)' };
      }
      const out = await get({
        url: `${base}/${encodeURIComponent(channel.account_id)}?fields=display_phone_number,verified_name,quality_rating`,
        headers: { authorization: `Bearer ${channel.api_key}` },
        timeoutMs,
        secrets: [channel.api_key, channel.api_secret],
      });
      if (out.type === 'response' && out.status >= 200 && out.status < 300) {
        const info = pick(out.body, ['display_phone_number', 'verified_name', 'quality_rating']);
        return info.display_phone_number ? { ok: true, info } : { ok: false, kind: 'permanent', code: 'bad_response', message: `answered without a phone number (${httpMessage(out)})` };
      }
      return checkFailure(classifyMetaFailure(out));
    },
  };
}

/** Only the named string fields of a provider's answer: nothing else is stored. */
export function pick(body: unknown, fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body || typeof body !== 'object') return out;
  for (const f of fields) {
    const v = (body as Record<string, unknown>)[f];
    if (typeof v === 'string' || typeof v === 'number') out[f] = String(v).slice(0, 200);
  }
  return out;
}

/** The Cloud API body: a template when one is given (positional body parameters), else plain text. */
export function whatsappBody(msg: OutboundMessage): Record<string, unknown> {
  const head = { messaging_product: 'whatsapp', recipient_type: 'individual', to: e164(msg.to) };
  if (msg.template) {
    const { name, language, params } = msg.template;
    const template: Record<string, unknown> = { name, language: { code: language } };
    if (params.length) {
      template.components = [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }];
    }
    return { ...head, type: 'template', template };
  }
  return { ...head, type: 'text', text: { preview_url: false, body: msg.text } };
}

export interface MetaErrorOverrides {
  /** Consulted first: a channel-specific reading of a Graph error (Messenger's window, say). */
  classify?: (error: { code: number; error_subcode?: number }) => SendFailureKind | undefined;
}

/** A Graph API failure as a SendResult (shared by WhatsApp, Messenger and Instagram). */
export function classifyMetaFailure(out: HttpOutcome, overrides: MetaErrorOverrides = {}): Extract<SendResult, { ok: false }> {
  if (out.type === 'network') return { ok: false, kind: 'transient', code: out.code, message: out.message };
  const error = out.body?.error;
  const code = typeof error?.code === 'number' ? error.code : typeof error?.code === 'string' && /^\d+$/.test(error.code) ? Number(error.code) : undefined;
  const retry = out.status === 429 ? retryAfterMs(out.headers) : undefined;
  const withRetry = retry === undefined ? {} : { retry_after_ms: retry };
  if (code === undefined) {
    const kind: SendFailureKind = out.status >= 500 || out.status === 429 ? 'transient' : out.status === 401 ? 'auth' : 'permanent';
    return { ok: false, kind, code: `http_${out.status}`, message: httpMessage(out), ...withRetry };
  }
  const details = error?.error_data?.details;
  const message = [typeof error?.message === 'string' ? error.message : `Graph API error ${code}`, typeof details === 'string' && details ? details : null]
    .filter(Boolean)
    .join(': ');
  const kind: SendFailureKind =
    overrides.classify?.({ code, error_subcode: typeof error?.error_subcode === 'number' ? error.error_subcode : undefined }) ??
    (META_AUTH_CODES.has(code)
      ? 'auth'
      : META_WINDOW_CODES.has(code)
        ? 'window'
        : META_TRANSIENT_CODES.has(code) || out.status >= 500 || out.status === 429
          ? 'transient'
          : 'permanent');
  return { ok: false, kind, code: String(code), message, ...withRetry };
}
