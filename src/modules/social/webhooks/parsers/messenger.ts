// Messenger (`object: "page"`) and Instagram (`object: "instagram"`) webhooks: entry[] per Page or
// Instagram professional account, each with messaging[] events {sender.id, recipient.id, timestamp
// (milliseconds), message | postback | reaction | delivery | read}. One group per Page / account
// (entry.id; Meta batches several entries, for one or several Pages, in a POST). Echoes of our own
// sends (`message.is_echo`) are skipped, as are events under `standby[]` (another app owns the
// thread). An unsend (`is_deleted`) and a `message_edit` change an earlier message (action).
// Deliveries become `delivered` statuses for their mids; a read with a mid (Instagram) becomes a
// `read` status, a watermark-only read (Messenger) names no message and is skipped.
//
// Message kinds: text; a quick reply or a postback is a `button` (text = its title, payload in
// metadata.button_payload); attachments take the first attachment's type (`file` → `document`);
// a reaction is a `reaction` (text = emoji).
import type { InboundGroup, InboundMessage, InboundStatus } from './types.js';
import { PayloadError } from './types.js';
import { compact, fromMillis, isObj, needArray, needId, needObj, num, rawText, str, type Obj } from './util.js';

/** Every inbound message (and delivery/read) in a Messenger or Instagram webhook body, per entry. */
export function parseMessenger(body: unknown): InboundGroup[] {
  const root = needObj(body, 'body');
  if (root.object !== 'page' && root.object !== 'instagram') {
    throw new PayloadError('body.object must be "page" or "instagram"');
  }
  const groups = new Map<string | null, InboundGroup>(); // one per Page / IG account, in order of appearance
  needArray(root.entry, 'entry').forEach((e, i) => {
    const entry = needObj(e, `entry[${i}]`);
    if (entry.messaging === undefined) return; // e.g. Instagram comments arrive as changes[]
    const events = needArray(entry.messaging, `entry[${i}].messaging`);
    const accountId = str(entry.id);
    let group = groups.get(accountId);
    if (!group) groups.set(accountId, (group = { account_id: accountId, phone_number: null, messages: [], statuses: [] }));
    events.forEach((ev, j) => {
      const path = `entry[${i}].messaging[${j}]`;
      parseEvent(needObj(ev, path), path, entry, group);
    });
  });
  return [...groups.values()];
}

function parseEvent(ev: Obj, path: string, entry: Obj, group: InboundGroup): void {
  const sender = isObj(ev.sender) ? str(ev.sender.id) : null;
  const when = fromMillis(ev.timestamp) ?? fromMillis(entry.time);

  if (isObj(ev.delivery)) {
    for (const mid of Array.isArray(ev.delivery.mids) ? ev.delivery.mids : []) {
      const id = str(mid);
      if (id) group.statuses.push(status(id, 'delivered', sender, fromMillis(ev.delivery.watermark) ?? when));
    }
    return;
  }
  if (isObj(ev.read)) {
    const id = str(ev.read.mid);
    if (id) group.statuses.push(status(id, 'read', sender, when));
    return;
  }
  if (isObj(ev.message_edit)) {
    const e = ev.message_edit;
    const mid = needId(e.mid, `${path}.message_edit.mid`);
    if (!sender) throw new PayloadError(`${path}.sender.id must be a non-empty string`);
    if (!when) throw new PayloadError(`${path}.timestamp must be Unix milliseconds`);
    group.messages.push({
      from_number: null, from_user_id: sender, reply_to: sender, profile_name: null, timestamp: when,
      provider_message_id: `${mid}:edit:${str(e.num_edit) ?? when.getTime()}`, message_type: 'text', text: rawText(e.text),
      metadata: compact({ num_edit: num(e.num_edit) }), action: 'edit', original_message_id: mid,
    });
    return;
  }
  if (ev.message === undefined && ev.postback === undefined && ev.reaction === undefined) return; // optins, referrals, handovers…

  if (!sender) throw new PayloadError(`${path}.sender.id must be a non-empty string`);
  if (!when) throw new PayloadError(`${path}.timestamp must be Unix milliseconds`);
  const base = { from_number: null, from_user_id: sender, reply_to: sender, profile_name: null, timestamp: when };

  if (ev.message !== undefined) {
    const m = needObj(ev.message, `${path}.message`);
    if (m.is_echo === true) return;
    if (m.is_deleted === true) {
      // an unsend: the customer removed an earlier message
      const mid = needId(m.mid, `${path}.message.mid`);
      group.messages.push({ ...base, provider_message_id: `${mid}:deleted`, message_type: 'text', text: null, metadata: {},
        action: 'delete', original_message_id: mid });
      return;
    }
    group.messages.push({ ...base, provider_message_id: needId(m.mid, `${path}.message.mid`), ...message(m, ev) });
    return;
  }
  if (ev.postback !== undefined) {
    const p = needObj(ev.postback, `${path}.postback`);
    group.messages.push({
      ...base,
      // older postbacks carry no mid: sender + time identifies the tap
      provider_message_id: str(p.mid) ?? `${sender}:${when.getTime()}:postback`,
      message_type: 'button',
      text: rawText(p.title) ?? rawText(p.payload),
      metadata: compact({ button_kind: 'postback', button_payload: str(p.payload), referral: isObj(p.referral) ? p.referral : undefined }),
    });
    return;
  }
  const r = needObj(ev.reaction, `${path}.reaction`);
  const target = str(r.mid);
  group.messages.push({
    ...base,
    provider_message_id: `${sender}:${when.getTime()}:reaction:${target ?? ''}`,
    message_type: 'reaction',
    text: r.action === 'unreact' ? null : rawText(r.emoji),
    metadata: compact({
      reacted_message_id: target,
      reaction: str(r.reaction),
      reaction_removed: r.action === 'unreact' ? true : undefined,
    }),
  });
}

function message(m: Obj, ev: Obj): Pick<InboundMessage, 'message_type' | 'text' | 'metadata'> {
  const text = rawText(m.text);
  const attachments = Array.isArray(m.attachments) ? m.attachments.filter(isObj) : [];
  const common: Obj = {
    context_message_id: isObj(m.reply_to) ? str(m.reply_to.mid) : undefined,
    story: isObj(m.reply_to) && isObj(m.reply_to.story) ? m.reply_to.story : undefined,
    referral: isObj(m.referral) ? m.referral : isObj(ev.referral) ? ev.referral : undefined,
  };
  if (isObj(m.quick_reply)) {
    return {
      message_type: 'button',
      text: text ?? str(m.quick_reply.payload),
      metadata: compact({ ...common, button_kind: 'quick_reply', button_payload: str(m.quick_reply.payload) }),
    };
  }
  if (attachments.length) {
    const first = attachments[0];
    const payload = isObj(first.payload) ? first.payload : {};
    const coords = isObj(payload.coordinates) ? payload.coordinates : null;
    const rawType = str(first.type) ?? 'attachment';
    const type = payload.sticker_id !== undefined ? 'sticker' : rawType === 'file' ? 'document' : rawType;
    return {
      message_type: type,
      text,
      metadata: compact({
        ...common,
        media_url: str(payload.url),
        sticker_id: str(payload.sticker_id),
        latitude: coords ? num(coords.lat) : undefined,
        longitude: coords ? num(coords.long) : undefined,
        name: str(first.title),
        attachments,
      }),
    };
  }
  return {
    message_type: text !== null ? 'text' : m.is_unsupported === true ? 'unsupported' : 'unknown',
    text,
    metadata: compact(common),
  };
}

function status(id: string, word: string, recipient: string | null, timestamp: Date | null): InboundStatus {
  return { provider_message_id: id, status: word, recipient, timestamp, error_code: null, error_message: null };
}
