// WhatsApp Cloud API (Meta) webhook POSTs: `{object: "whatsapp_business_account", entry: [{id: WABA,
// changes: [{field, value}]}]}`. One group per change whose field is "messages", routed by that
// change's own `metadata.phone_number_id`: a POST may batch several entries (several WABAs and
// numbers) and many messages and statuses. Other change fields (template status, quality, …) give
// no group. A "messages" value holds contacts[] + messages[] (inbound), or statuses[] (outbound
// delivery; no contacts), and/or a system-level errors[] (not carried in the groups).
//
// Identity: `from` / `contacts[].wa_id` are phone digits without '+'. Since 2026 a user with a
// username may arrive with only a business-scoped user id (`messages[].from_user_id`,
// `contacts[].user_id`, e.g. "US.13491208655302741918") and no `from` / `wa_id`.
import type { InboundGroup, InboundMessage, InboundStatus } from './types.js';
import { PayloadError } from './types.js';
import { compact, fromSeconds, isObj, needArray, needId, needObj, num, optArray, rawText, str, type Obj } from './util.js';

const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'document', 'sticker']);
const PHONE_DIGITS = /^\+?\d+$/;

interface Contact {
  wa_id: string | null;
  user_id: string | null;
  parent_user_id: string | null;
  name: string | null;
  username: string | null;
  identity_key_hash: string | null;
}

/** Every inbound message and status in a Meta WhatsApp webhook body, grouped by business number. */
export function parseMetaWhatsApp(body: unknown): InboundGroup[] {
  const root = needObj(body, 'body');
  if (root.object !== 'whatsapp_business_account') {
    throw new PayloadError('body.object must be "whatsapp_business_account"');
  }
  const groups: InboundGroup[] = [];
  needArray(root.entry, 'entry').forEach((e, i) => {
    const entry = needObj(e, `entry[${i}]`);
    needArray(entry.changes, `entry[${i}].changes`).forEach((c, j) => {
      const path = `entry[${i}].changes[${j}]`;
      const change = needObj(c, path);
      if (change.field !== 'messages') return;
      groups.push(parseMessagesValue(needObj(change.value, `${path}.value`), `${path}.value`));
    });
  });
  return groups;
}

function parseMessagesValue(value: Obj, path: string): InboundGroup {
  const meta = isObj(value.metadata) ? value.metadata : {};
  const contacts = optArray(value.contacts, `${path}.contacts`).map((c, i) => parseContact(c, `${path}.contacts[${i}]`));
  return {
    account_id: str(meta.phone_number_id),
    phone_number: str(meta.display_phone_number),
    messages: optArray(value.messages, `${path}.messages`).map((m, i) =>
      parseMessage(needObj(m, `${path}.messages[${i}]`), `${path}.messages[${i}]`, contacts)),
    statuses: optArray(value.statuses, `${path}.statuses`).map((s, i) =>
      parseStatus(needObj(s, `${path}.statuses[${i}]`), `${path}.statuses[${i}]`)),
  };
}

function parseContact(c: unknown, path: string): Contact {
  const o = needObj(c, path);
  const profile = isObj(o.profile) ? o.profile : {};
  return {
    wa_id: str(o.wa_id),
    user_id: str(o.user_id),
    parent_user_id: str(o.parent_user_id),
    name: str(profile.name),
    username: str(profile.username),
    identity_key_hash: str(o.identity_key_hash),
  };
}

/** The contact entry for a sender: by number, then by user id; a lone contact is the sender's. */
function contactFor(contacts: Contact[], from: string | null, userId: string | null): Contact | null {
  return (from !== null ? contacts.find((c) => c.wa_id === from) : undefined)
    ?? (userId !== null ? contacts.find((c) => c.user_id === userId) : undefined)
    ?? (contacts.length === 1 ? contacts[0] : null);
}

function parseMessage(m: Obj, path: string, contacts: Contact[]): InboundMessage {
  const id = needId(m.id, `${path}.id`);
  if (typeof m.type !== 'string' || !m.type) throw new PayloadError(`${path}.type must be a non-empty string`);
  const type = m.type;
  const timestamp = fromSeconds(m.timestamp);
  if (!timestamp) throw new PayloadError(`${path}.timestamp must be Unix seconds`);

  let from = str(m.from);
  let userId = str(m.from_user_id);
  if (from !== null && !PHONE_DIGITS.test(from)) {
    // not a phone number: a business-scoped user id in the `from` slot
    userId ??= from;
    from = null;
  }
  const contact = contactFor(contacts, from, userId);
  const fromNumber = from ?? contact?.wa_id ?? null;
  userId ??= contact?.user_id ?? null;

  // An edit carries the whole new message inside it; a revoke only names the message it removes.
  const edit = type === 'edit' && isObj(m.edit) ? m.edit : null;
  const revoke = type === 'revoke' && isObj(m.revoke) ? m.revoke : null;
  const inner = edit && isObj(edit.message) && typeof edit.message.type === 'string' ? edit.message : null;
  const shownType = inner ? (inner.type as string) : type;
  const { text, metadata } = revoke ? { text: null, metadata: {} } : content(shownType, inner ?? m);
  const original = str(edit?.original_message_id) ?? str(revoke?.original_message_id);
  return {
    provider_message_id: id,
    from_number: fromNumber,
    from_user_id: userId,
    reply_to: contact?.wa_id ?? fromNumber ?? userId,
    profile_name: contact?.name ?? null,
    message_type: shownType,
    text,
    timestamp,
    ...(original ? { action: edit ? 'edit' as const : 'delete' as const, original_message_id: original } : {}),
    metadata: compact({
      ...metadata,
      ...contextOf(inner?.context ?? m.context),
      referral: isObj(m.referral) ? m.referral : undefined,
      errors: Array.isArray(m.errors) && m.errors.length ? m.errors : undefined,
      username: contact?.username,
      parent_user_id: contact?.parent_user_id,
      identity_key_hash: contact?.identity_key_hash,
    }),
  };
}

/** The text and kind-specific metadata of one message. */
function content(type: string, m: Obj): { text: string | null; metadata: Obj } {
  const body = isObj(m[type]) ? (m[type] as Obj) : {};
  if (type === 'text') return { text: rawText(body.body), metadata: {} };
  if (type === 'button') {
    return { text: rawText(body.text) ?? rawText(body.payload), metadata: { button_payload: str(body.payload) } };
  }
  if (type === 'interactive') return interactive(body);
  if (MEDIA_TYPES.has(type)) {
    return {
      text: rawText(body.caption),
      metadata: {
        media_id: str(body.id),
        mime_type: str(body.mime_type),
        sha256: str(body.sha256),
        filename: str(body.filename),
        voice: typeof body.voice === 'boolean' ? body.voice : undefined,
        animated: typeof body.animated === 'boolean' ? body.animated : undefined,
      },
    };
  }
  if (type === 'location') {
    return {
      text: null,
      metadata: {
        latitude: num(body.latitude),
        longitude: num(body.longitude),
        name: str(body.name),
        address: str(body.address),
        url: str(body.url),
      },
    };
  }
  if (type === 'reaction') {
    const emoji = rawText(body.emoji);
    return {
      text: emoji,
      metadata: { reacted_message_id: str(body.message_id), reaction_removed: emoji === null ? true : undefined },
    };
  }
  if (type === 'contacts') return { text: null, metadata: { contacts: Array.isArray(m.contacts) ? m.contacts : undefined } };
  if (type === 'order') return { text: rawText(body.text), metadata: { order: isObj(m.order) ? m.order : undefined } };
  if (type === 'system') return { text: rawText(body.body), metadata: { system: isObj(m.system) ? m.system : undefined } };
  // unsupported, request_welcome, or a kind Meta adds later: keep its own object, if any
  return { text: null, metadata: m[type] !== undefined && type !== 'errors' ? { [type]: m[type] } : {} };
}

function interactive(body: Obj): { text: string | null; metadata: Obj } {
  const kind = str(body.type);
  const reply = kind && isObj(body[kind]) ? (body[kind] as Obj) : {};
  if (kind === 'button_reply' || kind === 'list_reply') {
    return {
      text: rawText(reply.title),
      metadata: { interactive_type: kind, reply_id: str(reply.id), description: str(reply.description) },
    };
  }
  if (kind === 'nfm_reply') {
    // a WhatsApp Flow's answer: response_json is a JSON string of the form's fields
    return {
      text: rawText(reply.body),
      metadata: { interactive_type: kind, flow_name: str(reply.name), response_json: str(reply.response_json) },
    };
  }
  return { text: null, metadata: { interactive_type: kind, interactive: body } };
}

function contextOf(v: unknown): Obj {
  if (!isObj(v)) return {};
  return {
    context_message_id: str(v.id),
    context_from: str(v.from),
    forwarded: v.forwarded === true ? true : undefined,
    frequently_forwarded: v.frequently_forwarded === true ? true : undefined,
    referred_product: isObj(v.referred_product) ? v.referred_product : undefined,
  };
}

function parseStatus(s: Obj, path: string): InboundStatus {
  const id = needId(s.id, `${path}.id`);
  if (typeof s.status !== 'string' || !s.status) throw new PayloadError(`${path}.status must be a non-empty string`);
  const error = Array.isArray(s.errors) && isObj(s.errors[0]) ? s.errors[0] : null;
  return {
    provider_message_id: id,
    status: s.status,
    recipient: str(s.recipient_id) ?? str(s.recipient_user_id),
    timestamp: fromSeconds(s.timestamp),
    error_code: error ? str(error.code) : null,
    error_message: error ? errorText(error) : null,
  };
}

/** A Meta error's message followed by its details, when they add something. */
function errorText(e: Obj): string | null {
  const message = str(e.message) ?? str(e.title);
  const details = isObj(e.error_data) ? str(e.error_data.details) : null;
  if (message && details && details !== message) return `${message}${/[.!?]$/.test(message) ? ' ' : ': '}${details}`;
  return message ?? details;
}
