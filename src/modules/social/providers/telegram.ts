// Telegram Bot API: POST /bot<TOKEN>/sendMessage {chat_id, text}. Answers are {ok, result} or
// {ok:false, error_code, description, parameters}; 429 carries parameters.retry_after (seconds),
// which blocks the whole bot and must be honoured. The token is part of the URL, so neither the URL
// nor anything derived from it is ever logged or returned.
import { checkFailure, type CheckResult, type OutboundMessage, type Provider, type ProviderChannel, type SendFailureKind, type SendResult } from './provider.js';
import { badResponse, get, httpMessage, post, retryAfterMs, trimSlash, type HttpOutcome } from './http.js';
import { pick } from './meta.js';

export function createTelegramProvider(baseUrl: string, timeoutMs: number): Provider {
  const base = trimSlash(baseUrl);
  return {
    name: 'telegram',
    async send(channel: ProviderChannel, msg: OutboundMessage): Promise<SendResult> {
      if (!channel.api_key) {
        return { ok: false, kind: 'auth', code: 'missing_credentials', message: 'the channel has no bot token (api_key)' };
      }
      const out = await post({
        url: `${base}/bot${channel.api_key}/sendMessage`,
        headers: { 'content-type': 'application/json' },
        // Plain text (no parse_mode): a customer's name with '<' or '_' cannot break the message.
        body: JSON.stringify({ chat_id: msg.to, text: msg.text }),
        timeoutMs,
        secrets: [channel.api_key, channel.api_secret],
      });
      if (out.type === 'response' && out.status >= 200 && out.status < 300 && out.body?.ok === true) {
        const id = out.body.result?.message_id;
        return typeof id === 'number' || (typeof id === 'string' && id) ? { ok: true, provider_message_id: String(id) } : badResponse(out);
      }
      return telegramFailure(out);
    },
    // getMe: the bot the token belongs to (401 Unauthorized or 404 when the token is wrong).
    async check(channel: ProviderChannel): Promise<CheckResult> {
      if (!channel.api_key) {
        return { ok: false, kind: 'permanent', code: 'missing_credentials', message: 'the channel has no bot token (api_key)' };
      }
      const out = await get({ url: `${base}/bot${channel.api_key}/getMe`, headers: {}, timeoutMs, secrets: [channel.api_key, channel.api_secret] });
      if (out.type === 'response' && out.status >= 200 && out.status < 300 && out.body?.ok === true) {
        const info = pick(out.body.result, ['id', 'username', 'first_name']);
        return info.id ? { ok: true, info } : { ok: false, kind: 'permanent', code: 'bad_response', message: 'getMe answered without a bot id' };
      }
      return checkFailure(telegramFailure(out));
    },
  };
}

function telegramFailure(out: HttpOutcome): Extract<SendResult, { ok: false }> {
  if (out.type === 'network') return { ok: false, kind: 'transient', code: out.code, message: out.message };
  const body = out.body;
  const code = typeof body?.error_code === 'number' ? body.error_code : out.status;
  const message = typeof body?.description === 'string' ? body.description : httpMessage(out);
  const retryAfter = body?.parameters?.retry_after;
  const retry_after_ms = typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter * 1000 : code === 429 ? retryAfterMs(out.headers) : undefined;
  return { ok: false, kind: telegramKind(code), code: String(code), message, ...(retry_after_ms === undefined ? {} : { retry_after_ms }) };
}

function telegramKind(code: number): SendFailureKind {
  if (code === 429 || code >= 500) return 'transient';
  if (code === 401 || code === 404) return 'auth'; // Unauthorized / Not Found: the token is wrong or revoked
  return 'permanent'; // 400 chat not found, 403 bot blocked by the user, …
}
