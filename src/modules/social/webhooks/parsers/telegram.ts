// Telegram Bot API webhooks: one Update per POST, `{update_id, message | edited_message |
// channel_post | edited_channel_post | business_message | edited_business_message |
// callback_query | …}`. The bot is the channel (routed by ?channel_id), so the answer is a single
// group with no account id or number; an update kind that carries no message (my_chat_member,
// poll, …) gives that group with no messages.
//
// Ids: a message is `${chat.id}:${message_id}`; an edit is its own event, `${chat.id}:${message_id}:
// edit:${edit_date}`, with action 'edit' on original_message_id `${chat.id}:${message_id}`. A
// channel_post (the channel owner broadcasting) is not a customer's message: no message. An inline-button tap
// (callback_query) is `callback:${id}`, a `button` whose text is the button's label (else its data),
// stamped with options.receivedAt as a tap carries no time. chat.id and from.id are kept as
// decimal text (they can exceed 32 bits).
// Kinds: photo → image, voice → audio (metadata.voice), video_note → video, contact → contacts,
// venue → location; text, document, audio, video, sticker, location as they are; others keep
// Telegram's field name. A contact the user shares about themselves (contact.user_id = from.id,
// e.g. from a "share my number" button) gives from_number.
import type { InboundGroup, InboundMessage, ParseOptions } from './types.js';
import { PayloadError } from './types.js';
import { compact, fromSeconds, isObj, needId, needObj, num, rawText, str, type Obj } from './util.js';

const MESSAGE_FIELDS = ['message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_message', 'edited_business_message'] as const;
const EDITS = new Set<string>(['edited_message', 'edited_channel_post', 'edited_business_message']);
const CHANNEL_POSTS = new Set<string>(['channel_post', 'edited_channel_post']);

/** The message (or button tap) in one Telegram Update. */
export function parseTelegram(body: unknown, options: ParseOptions = {}): InboundGroup[] {
  const update = needObj(body, 'body');
  if (typeof update.update_id !== 'number' || !Number.isInteger(update.update_id)) {
    throw new PayloadError('body.update_id must be an integer');
  }
  const messages: InboundMessage[] = [];
  const kind = MESSAGE_FIELDS.find((k) => update[k] !== undefined);
  // A channel post is the channel's owner broadcasting to subscribers, not a customer writing to
  // the shop: acknowledged (200), nothing stored.
  if (kind && CHANNEL_POSTS.has(kind)) {
    needObj(update[kind], kind);
  } else if (kind) {
    messages.push(parseMessage(needObj(update[kind], kind), kind, update.update_id));
  } else if (update.callback_query !== undefined) {
    messages.push(parseCallback(needObj(update.callback_query, 'callback_query'), update.update_id, options));
  }
  return [{ account_id: null, phone_number: null, messages, statuses: [] }];
}

function parseMessage(m: Obj, kind: string, updateId: number): InboundMessage {
  const chat = needObj(m.chat, `${kind}.chat`);
  const chatId = needId(chat.id, `${kind}.chat.id`);
  const messageId = needId(m.message_id, `${kind}.message_id`);
  const date = fromSeconds(m.date);
  if (!date) throw new PayloadError(`${kind}.date must be Unix seconds`);
  const edited = EDITS.has(kind);
  const editDate = num(m.edit_date);

  // a channel post (or an anonymous group admin) has sender_chat instead of from
  const from = isObj(m.from) ? m.from : isObj(m.sender_chat) ? m.sender_chat : null;
  const fromId = from ? str(from.id) : null;
  const { type, metadata } = content(m);
  const contact = isObj(m.contact) ? m.contact : null;
  const ownNumber = contact && fromId !== null && str(contact.user_id) === fromId ? str(contact.phone_number) : null;

  return {
    provider_message_id: edited ? `${chatId}:${messageId}:edit:${editDate ?? str(m.date)}` : `${chatId}:${messageId}`,
    from_number: ownNumber,
    from_user_id: fromId,
    reply_to: chatId,
    profile_name: from ? nameOf(from) : null,
    message_type: type,
    text: rawText(m.text) ?? rawText(m.caption),
    timestamp: date,
    ...(edited ? { action: 'edit' as const, original_message_id: `${chatId}:${messageId}` } : {}),
    metadata: compact({
      ...metadata,
      update_id: updateId,
      update_kind: kind,
      chat_type: str(chat.type),
      chat_title: str(chat.title),
      username: from ? str(from.username) : undefined,
      language_code: from ? str(from.language_code) : undefined,
      is_bot: from?.is_bot === true ? true : undefined,
      edited: edited ? true : undefined,
      edit_date: editDate ?? undefined,
      original_message_id: edited ? `${chatId}:${messageId}` : undefined,
      context_message_id: isObj(m.reply_to_message) && m.reply_to_message.message_id !== undefined
        ? `${chatId}:${str(m.reply_to_message.message_id)}` : undefined,
      forwarded: m.forward_origin !== undefined || m.forward_date !== undefined ? true : undefined,
      entities: Array.isArray(m.entities) ? m.entities : Array.isArray(m.caption_entities) ? m.caption_entities : undefined,
      media_group_id: str(m.media_group_id),
      business_connection_id: str(m.business_connection_id),
    }),
  };
}

/** The kind of a Telegram message and what it carries. */
function content(m: Obj): { type: string; metadata: Obj } {
  if (typeof m.text === 'string') return { type: 'text', metadata: {} };
  if (Array.isArray(m.photo) && m.photo.length) {
    const largest = m.photo.filter(isObj).at(-1) ?? {};
    return { type: 'image', metadata: file(largest, { width: num(largest.width), height: num(largest.height) }) };
  }
  if (isObj(m.voice)) return { type: 'audio', metadata: file(m.voice, { voice: true, duration: num(m.voice.duration) }) };
  if (isObj(m.audio)) return { type: 'audio', metadata: file(m.audio, { duration: num(m.audio.duration), title: str(m.audio.title) }) };
  if (isObj(m.video_note)) return { type: 'video', metadata: file(m.video_note, { video_note: true, duration: num(m.video_note.duration) }) };
  if (isObj(m.sticker)) return { type: 'sticker', metadata: file(m.sticker, { emoji: str(m.sticker.emoji) }) };
  if (isObj(m.animation)) return { type: 'animation', metadata: file(m.animation, {}) };
  for (const t of ['document', 'video'] as const) {
    if (isObj(m[t])) return { type: t, metadata: file(m[t] as Obj, {}) };
  }
  if (isObj(m.venue) || isObj(m.location)) {
    const venue = isObj(m.venue) ? m.venue : null;
    const loc = isObj(m.location) ? m.location : venue && isObj(venue.location) ? venue.location : {};
    return {
      type: 'location',
      metadata: {
        latitude: num(loc.latitude),
        longitude: num(loc.longitude),
        name: venue ? str(venue.title) : undefined,
        address: venue ? str(venue.address) : undefined,
        live_period: num(loc.live_period),
      },
    };
  }
  if (isObj(m.contact)) {
    const c = m.contact;
    return {
      type: 'contacts',
      metadata: {
        contact_phone_number: str(c.phone_number),
        contact_name: [str(c.first_name), str(c.last_name)].filter(Boolean).join(' ') || undefined,
        contact_user_id: str(c.user_id),
        contact_vcard: str(c.vcard),
      },
    };
  }
  // anything else (poll, dice, new_chat_members, …): the first field that is neither common nor empty
  const other = Object.keys(m).find((k) => !COMMON_FIELDS.has(k) && m[k] !== undefined && m[k] !== false);
  return other ? { type: other, metadata: { [other]: m[other] } } : { type: 'unknown', metadata: {} };
}

const COMMON_FIELDS = new Set([
  'message_id', 'message_thread_id', 'from', 'sender_chat', 'sender_boost_count', 'sender_business_bot', 'date',
  'business_connection_id', 'chat', 'forward_origin', 'forward_from', 'forward_from_chat', 'forward_from_message_id',
  'forward_signature', 'forward_sender_name', 'forward_date', 'is_topic_message', 'is_automatic_forward',
  'reply_to_message', 'external_reply', 'quote', 'reply_to_story', 'via_bot', 'edit_date', 'has_protected_content',
  'is_from_offline', 'media_group_id', 'author_signature', 'entities', 'caption', 'caption_entities',
  'show_caption_above_media', 'has_media_spoiler', 'link_preview_options', 'reply_markup', 'effect_id',
]);

function file(f: Obj, extra: Obj): Obj {
  return {
    media_id: str(f.file_id),
    file_unique_id: str(f.file_unique_id),
    mime_type: str(f.mime_type),
    filename: str(f.file_name),
    file_size: num(f.file_size),
    ...extra,
  };
}

function parseCallback(q: Obj, updateId: number, options: ParseOptions): InboundMessage {
  const id = needId(q.id, 'callback_query.id');
  const from = needObj(q.from, 'callback_query.from');
  const fromId = needId(from.id, 'callback_query.from.id');
  const msg = isObj(q.message) ? q.message : null;
  const chatId = msg && isObj(msg.chat) ? str(msg.chat.id) : null;
  const data = rawText(q.data);
  return {
    provider_message_id: `callback:${id}`,
    from_number: null,
    from_user_id: fromId,
    reply_to: chatId ?? fromId,
    profile_name: nameOf(from),
    message_type: 'button',
    text: (msg ? buttonLabel(msg, data) : null) ?? data,
    timestamp: options.receivedAt ?? new Date(), // a tap carries no time of its own
    metadata: compact({
      update_id: updateId,
      update_kind: 'callback_query',
      callback_query_id: id,
      button_payload: data,
      context_message_id: chatId && msg ? `${chatId}:${str(msg.message_id)}` : undefined,
      username: str(from.username),
    }),
  };
}

/** The label of the inline button whose callback_data is `data`, from the message that showed it. */
function buttonLabel(msg: Obj, data: string | null): string | null {
  const rows = isObj(msg.reply_markup) && Array.isArray(msg.reply_markup.inline_keyboard) ? msg.reply_markup.inline_keyboard : [];
  for (const row of rows) {
    for (const b of Array.isArray(row) ? row : []) {
      if (isObj(b) && data !== null && b.callback_data === data) return rawText(b.text);
    }
  }
  return null;
}

function nameOf(u: Obj): string | null {
  const name = [str(u.first_name), str(u.last_name)].filter(Boolean).join(' ');
  return name || str(u.title) || str(u.username);
}
