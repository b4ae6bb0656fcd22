// WhatsApp through Twilio: POST /2010-04-01/Accounts/<AccountSid>/Messages.json, HTTP Basic with the
// Account SID (api_key) and auth token (api_secret), form-encoded. Success is the Message resource
// (`sid`). Outside the 24-hour window Twilio needs a Content template (ContentSid=HX…), not Body: a
// template whose name is a Content SID is sent that way with ContentVariables {"1": …, "2": …};
// any other template is sent as its rendered text.
import { checkFailure, type CheckResult, type OutboundMessage, type Provider, type ProviderChannel, type SendFailureKind, type SendResult } from './provider.js';
import { badResponse, e164, get, httpMessage, post, retryAfterMs, trimSlash, type HttpOutcome } from './http.js';
import { pick } from './meta.js';

/** Authentication failed / account not active: the channel needs new credentials. */
export const TWILIO_AUTH_CODES: ReadonlySet<number> = new Set([20003, 20005]);
/** 63016: "Outside messaging window. For WhatsApp, use a Message Template instead". */
export const TWILIO_WINDOW_CODES: ReadonlySet<number> = new Set([63016]);
/** Too many requests, Twilio internal errors / unavailable, channel rate limit exceeded. */
export const TWILIO_TRANSIENT_CODES: ReadonlySet<number> = new Set([20429, 20500, 20503, 63018]);

export function createTwilioProvider(baseUrl: string, timeoutMs: number): Provider {
  const base = trimSlash(baseUrl);
  return {
    name: 'twilio',
    async send(channel: ProviderChannel, msg: OutboundMessage): Promise<SendResult> {
      if (!channel.api_key || !channel.api_secret) {
        return { ok: false, kind: 'auth', code: 'missing_credentials', message: 'the channel has no Account SID (api_key) or auth token (api_secret)' };
      }
      const form = new URLSearchParams();
      const service = channel.settings?.messaging_service_sid;
      if (typeof service === 'string' && service) form.set('MessagingServiceSid', service);
      else if (channel.phone_number) form.set('From', `whatsapp:${channel.phone_number}`);
      else return { ok: false, kind: 'permanent', code: 'missing_sender', message: 'the channel has no phone number (or settings.messaging_service_sid)' };
      form.set('To', `whatsapp:${e164(msg.to)}`);
      if (msg.template && /^HX[0-9a-fA-F]{32}$/.test(msg.template.name)) {
        form.set('ContentSid', msg.template.name);
        form.set('ContentVariables', JSON.stringify(Object.fromEntries(msg.template.params.map((p, i) => [String(i + 1), p]))));
      } else {
        form.set('Body', msg.text);
      }
      const callback = channel.settings?.status_callback_url;
      if (typeof callback === 'string' && callback) form.set('StatusCallback', callback);

      const out = await post({
        url: `${base}/2010-04-01/Accounts/${encodeURIComponent(channel.api_key)}/Messages.json`,
        headers: {
          authorization: `Basic ${Buffer.from(`${channel.api_key}:${channel.api_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: form.toString(),
        timeoutMs,
        secrets: [channel.api_key, channel.api_secret],
      });
      if (out.type === 'response' && out.status >= 200 && out.status < 300) {
        const sid = out.body?.sid;
        return typeof sid === 'string' && sid ? { ok: true, provider_message_id: sid } : badResponse(out);
      }
      return twilioFailure(out);
    },
    // Reads the account the SID and auth token belong to; a suspended or closed account cannot send.
    async check(channel: ProviderChannel): Promise<CheckResult> {
      if (!channel.api_key || !channel.api_secret) {
        return { ok: false, kind: 'permanent', code: 'missing_credentials', message: 'the channel has no Account SID (api_key) or auth token (api_secret)' };
      }
      const out = await get({
        url: `${base}/2010-04-01/Accounts/${encodeURIComponent(channel.api_key)}.json`,
        headers: { authorization: `Basic ${Buffer.from(`${channel.api_key}:${channel.api_secret}`).toString('base64')}` },
        timeoutMs,
        secrets: [channel.api_key, channel.api_secret],
      });
      if (out.type === 'response' && out.status >= 200 && out.status < 300) {
        const info = pick(out.body, ['friendly_name', 'status', 'type']);
        if (!info.status) return { ok: false, kind: 'permanent', code: 'bad_response', message: `answered without an account status (${httpMessage(out)})` };
        return info.status === 'active' ? { ok: true, info }
          : { ok: false, kind: 'permanent', code: `account_${info.status}`, message: `the Twilio account is ${info.status}`, info };
      }
      return checkFailure(twilioFailure(out));
    },
  };
}

function twilioFailure(out: HttpOutcome): Extract<SendResult, { ok: false }> {
  if (out.type === 'network') return { ok: false, kind: 'transient', code: out.code, message: out.message };
  const code = typeof out.body?.code === 'number' ? out.body.code : undefined;
  const retry = out.status === 429 ? retryAfterMs(out.headers) : undefined;
  return {
    ok: false,
    kind: twilioKind(code, out.status),
    code: code === undefined ? `http_${out.status}` : String(code),
    message: typeof out.body?.message === 'string' ? out.body.message : httpMessage(out),
    ...(retry === undefined ? {} : { retry_after_ms: retry }),
  };
}

function twilioKind(code: number | undefined, status: number): SendFailureKind {
  if (code !== undefined) {
    if (TWILIO_AUTH_CODES.has(code)) return 'auth';
    if (TWILIO_WINDOW_CODES.has(code)) return 'window';
    if (TWILIO_TRANSIENT_CODES.has(code)) return 'transient';
  }
  if (status === 429 || status >= 500) return 'transient';
  if (status === 401) return 'auth';
  return 'permanent'; // 21211 invalid To, 21610 unsubscribed, 63007 unknown sender, …
}
