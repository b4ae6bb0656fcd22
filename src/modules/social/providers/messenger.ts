// Facebook Messenger and Instagram Messaging through the Graph Send API:
// POST /<PAGE_ID or IG_ID>/messages (or /me/messages) {recipient:{id}, messaging_type, message:{text}}.
// The page token goes in the Authorization header rather than the documented ?access_token= query so
// it never lands in an access log. A notification is not a reply, so messaging_type is UPDATE unless
// the channel sets a message tag (`settings.message_tag`, e.g. HUMAN_AGENT → MESSAGE_TAG).
// These channels have no approved-template concept here: a template is sent as its rendered text.
import { checkFailure, type CheckResult, type OutboundMessage, type Provider, type ProviderChannel, type SendFailureKind, type SendResult } from './provider.js';
import { badResponse, get, httpMessage, post, trimSlash } from './http.js';
import { classifyMetaFailure, pick } from './meta.js';

/** Graph errors read differently on Messenger/Instagram before the shared Meta classification. */
export function classifyMessengerError(e: { code: number; error_subcode?: number }): SendFailureKind | undefined {
  if (e.code === 10 && e.error_subcode === 2018278) return 'window'; // sent outside the allowed window
  if (e.code === 613) return 'transient'; // calls to this API exceeded the rate limit
  return undefined;
}

export function createMessengerProvider(name: 'messenger' | 'instagram', baseUrl: string, timeoutMs: number): Provider {
  const base = trimSlash(baseUrl);
  return {
    name,
    async send(channel: ProviderChannel, msg: OutboundMessage): Promise<SendResult> {
      if (!channel.api_key) {
        return { ok: false, kind: 'auth', code: 'missing_credentials', message: 'the channel has no page access token (api_key)' };
      }
      const tag = typeof channel.settings?.message_tag === 'string' && channel.settings.message_tag ? channel.settings.message_tag : undefined;
      const body = {
        recipient: { id: msg.to },
        messaging_type: tag ? 'MESSAGE_TAG' : 'UPDATE',
        ...(tag ? { tag } : {}),
        message: { text: msg.text },
      };
      const out = await post({
        url: `${base}/${channel.account_id ? encodeURIComponent(channel.account_id) : 'me'}/messages`,
        headers: { authorization: `Bearer ${channel.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        timeoutMs,
        secrets: [channel.api_key, channel.api_secret],
      });
      if (out.type === 'response' && out.status >= 200 && out.status < 300) {
        const id = out.body?.message_id;
        return typeof id === 'string' && id ? { ok: true, provider_message_id: id } : badResponse(out);
      }
      return classifyMetaFailure(out, { classify: classifyMessengerError });
    },
    // Reads the page (or Instagram account) the token belongs to.
    async check(channel: ProviderChannel): Promise<CheckResult> {
      if (!channel.api_key) {
        return { ok: false, kind: 'permanent', code: 'missing_credentials', message: 'the channel has no access token (api_key)' };
      }
      const fields = name === 'instagram' ? ['id', 'username', 'name'] : ['id', 'name'];
      const out = await get({
        url: `${base}/${channel.account_id ? encodeURIComponent(channel.account_id) : 'me'}?fields=${fields.join(',')}`,
        headers: { authorization: `Bearer ${channel.api_key}` },
        timeoutMs,
        secrets: [channel.api_key, channel.api_secret],
      });
      if (out.type === 'response' && out.status >= 200 && out.status < 300) {
        const info = pick(out.body, fields);
        return info.id ? { ok: true, info } : { ok: false, kind: 'permanent', code: 'bad_response', message: `answered without an id (${httpMessage(out)})` };
      }
      return checkFailure(classifyMetaFailure(out, { classify: classifyMessengerError }));
    },
  };
}
