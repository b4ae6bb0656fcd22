// Twilio WhatsApp webhooks: form fields (already decoded) of either an inbound message (MessageSid,
// From/To "whatsapp:+<E.164>", Body, ProfileName, WaId, NumMedia + MediaUrlN/MediaContentTypeN,
// Latitude/Longitude, ButtonText/ButtonPayload, …) or a status callback (MessageSid, MessageStatus,
// ErrorCode, ErrorMessage). An inbound message also carries `SmsStatus=received`: that is not a
// status. One POST is one event, so the answer is one group: routed by the business's number —
// `To` of an inbound message, `From` of a status callback (the message we sent) — with '+' kept.
//
// Twilio sends no time for an inbound message: it is stamped with `receivedAt` (default: now).
import type { InboundGroup, InboundMessage, InboundStatus, ParseOptions } from './types.js';
import { PayloadError } from './types.js';
import { compact, isObj, num, type Obj } from './util.js';

/** Statuses an inbound message reports about itself; never an outbound delivery status. */
const INBOUND_STATES = new Set(['received', 'receiving']);

/** The inbound message or the status callback in a Twilio webhook's form fields. */
export function parseTwilio(fields: Record<string, string>, options: ParseOptions = {}): InboundGroup[] {
  if (!isObj(fields)) throw new PayloadError('Twilio webhook fields must be an object of form fields');
  const form: Form = fields;
  const get = (name: string): string | null => field(form, name);
  const sid = get('MessageSid') ?? get('SmsMessageSid') ?? get('SmsSid');
  if (!sid) throw new PayloadError('MessageSid is required');

  const status = statusOf(form);
  if (status !== null) {
    return [{ account_id: null, phone_number: address(get('From')), messages: [], statuses: [parseStatus(sid, status, get)] }];
  }
  if (!get('From') && !get('WaId')) {
    throw new PayloadError('neither an inbound message (From) nor a status callback (MessageStatus)');
  }
  return [{ account_id: null, phone_number: address(get('To')), messages: [parseInbound(sid, form, options)], statuses: [] }];
}

/** The delivery status this callback reports, or null for an inbound message. */
function statusOf(form: Form): string | null {
  const messageStatus = field(form, 'MessageStatus');
  if (messageStatus !== null) return INBOUND_STATES.has(messageStatus.toLowerCase()) ? null : messageStatus;
  // older callbacks name the status only SmsStatus; an inbound message has a Body or NumMedia
  const smsStatus = field(form, 'SmsStatus');
  const looksInbound = Object.hasOwn(form, 'Body') || Object.hasOwn(form, 'NumMedia');
  if (smsStatus !== null && !INBOUND_STATES.has(smsStatus.toLowerCase()) && !looksInbound) return smsStatus;
  return null;
}

function parseStatus(sid: string, status: string, get: (name: string) => string | null): InboundStatus {
  const errorCode = get('ErrorCode');
  return {
    provider_message_id: sid,
    status,
    recipient: address(get('To')),
    timestamp: null,
    error_code: errorCode,
    error_message: get('ErrorMessage') ?? (errorCode ? get('ChannelStatusMessage') : null),
  };
}

const MAX_MEDIA = 10;

function parseInbound(sid: string, form: Form, options: ParseOptions): InboundMessage {
  const get = (name: string): string | null => field(form, name);
  const from = address(get('From'));
  // Twilio sends at most 10 media per message; the count is the sender's word, so it is bounded
  // (a signed "NumMedia=1e300" once looped until the heap ran out).
  const numMedia = Math.min(MAX_MEDIA, Math.max(0, Math.trunc(num(get('NumMedia')) ?? 0)));
  const media: { url: string | null; content_type: string | null }[] = [];
  for (let i = 0; i < numMedia; i++) media.push({ url: get(`MediaUrl${i}`), content_type: get(`MediaContentType${i}`) });
  const latitude = num(get('Latitude'));
  const longitude = num(get('Longitude'));
  const buttonText = get('ButtonText');
  const buttonPayload = get('ButtonPayload');

  const type = get('MessageType')
    ?? (buttonText !== null || buttonPayload !== null ? 'button'
      : latitude !== null && longitude !== null ? 'location'
        : media.length ? mediaType(media[0].content_type)
          : 'text');
  const body = field(form, 'Body');

  return {
    provider_message_id: sid,
    from_number: from ?? get('WaId'),
    from_user_id: null,
    reply_to: from ?? get('WaId'),
    profile_name: get('ProfileName'),
    message_type: type,
    text: type === 'button' ? buttonText ?? body ?? buttonPayload : body,
    timestamp: options.receivedAt ?? new Date(),
    metadata: compact({
      wa_id: get('WaId'),
      account_sid: get('AccountSid'),
      media_url: media[0]?.url,
      mime_type: media[0]?.content_type,
      media: media.length ? media : undefined,
      latitude,
      longitude,
      address: get('Address'),
      label: get('Label'),
      button_payload: buttonPayload,
      context_message_id: get('OriginalRepliedMessageSid'),
      forwarded: get('Forwarded') === 'true' ? true : undefined,
      frequently_forwarded: get('FrequentlyForwarded') === 'true' ? true : undefined,
      referral: referral(form),
    }),
  };
}

/** Click-to-WhatsApp ad fields (ReferralSourceUrl, ReferralHeadline, …) as {source_url, headline, …}. */
function referral(form: Form): Obj | undefined {
  const out: Obj = {};
  for (const k of Object.keys(form)) {
    const v = field(form, k);
    if (!k.startsWith('Referral') || k === 'ReferralNumMedia' || v === null) continue;
    out[k.slice('Referral'.length).replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

function mediaType(contentType: string | null): string {
  const major = contentType?.split('/')[0]?.toLowerCase();
  return major === 'image' || major === 'audio' || major === 'video' ? major : 'document';
}

/** "whatsapp:+919876543210" → "+919876543210". */
function address(v: string | null): string | null {
  if (v === null) return null;
  const a = v.replace(/^whatsapp:/i, '').trim();
  return a.length ? a : null;
}

/** Form fields as a parser hands them over: a repeated name may come as an array of values. */
type Form = Record<string, unknown>;

/** A field's value (the first one of a repeated name); a missing or empty field is null. */
function field(form: Form, name: string): string | null {
  if (!Object.hasOwn(form, name)) return null;
  const v = Array.isArray(form[name]) ? (form[name] as unknown[])[0] : form[name];
  return typeof v === 'string' && v.length > 0 ? v : null;
}
