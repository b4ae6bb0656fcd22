// receiveWebhook: verify → store once → answer fast → the rest on the queue (SPEC §7).
//
// The payload names an address (Meta phone_number_id, a page id, Twilio's To number, or
// ?channel_id= for Telegram); the global routing index gives the candidate channels; the request
// is accepted for a channel only if its signature verifies with that channel's secret, over the
// exact bytes received. Messages are stored once per (channel, provider message id) by a unique
// key, and each new one queues its processing in the same transaction.
import type { Config } from '../../../config.js';
import type { Database } from '../../../platform/db.js';
import { badRequest, hasUnstorable, notFound, unauthorized, withoutUnstorable } from '../../../platform/errors.js';
import { recordEvent } from '../../../platform/events.js';
import { withoutTenant, withTenant, type Tx } from '../../../platform/tenancy.js';
import { loadChannelWithSecrets, type ChannelWithSecrets } from '../channels/channels.service.js';
import { businessCountry } from '../../customers/customers.service.js';
import { applyStatus, normaliseStatus } from '../notifications/statuses.js';
import { parseMessenger, parseMetaWhatsApp, parseTelegram, parseTwilio, PayloadError, type InboundGroup, type InboundMessage } from './parsers/index.js';
import { verifyMetaSignature, verifyTelegramSecret, verifyTwilioSignature } from './signatures.js';
import { fileInbound, openConversation } from '../conversations/conversations.repo.js';
import { cachedChannel, cachedRoutes, fileHeldMessage, forgetChannel, ingestFor, itemsOf, senderE164, type CachedChannel, type IngestItem, type Route } from './webhooks.ingest.js';

export const WEBHOOK_CHANNEL_TYPES = ['whatsapp', 'facebook', 'instagram', 'telegram'] as const;
export type WebhookChannelType = (typeof WEBHOOK_CHANNEL_TYPES)[number];

export interface WebhookRequest {
  channelType: string;
  raw: Buffer;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  /** Path and query as received: Twilio signs PUBLIC_BASE_URL + this. */
  url: string;
  query: { channel_id?: string; business_id?: string };
}

type Scheme = 'meta' | 'twilio' | 'telegram';

interface Parsed {
  scheme: Scheme;
  groups: InboundGroup[];
  twilioParams?: [string, string][];
  /** Whether the parsed text may hold a NUL or a lone surrogate (see storable). */
  mayBeUnstorable: boolean;
}

/**
 * Parsed JSON holds a NUL or a lone surrogate only where the body escaped one: JSON forbids a raw
 * NUL in a string, and decoding UTF-8 makes an invalid sequence U+FFFD, never a surrogate. A body
 * without such an escape is stored as parsed, without a copy (an emoji's escaped pair matches too,
 * and is looked at whole).
 */
const ESCAPED_UNSTORABLE = /\\u(?:0000|[dD][89a-fA-F])/;

const header = (h: WebhookRequest['headers'], name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

function parse(req: WebhookRequest): Parsed {
  const isForm = req.contentType.startsWith('application/x-www-form-urlencoded');
  try {
    if (req.channelType === 'whatsapp' && isForm) {
      const params = [...new URLSearchParams(req.raw.toString('utf8')).entries()];
      return { scheme: 'twilio', groups: parseTwilio(Object.fromEntries(params)), twilioParams: params, mayBeUnstorable: true };
    }
    if (isForm) throw badRequest('Only Twilio WhatsApp webhooks are form-encoded');
    const text = req.raw.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw badRequest('The body is not valid JSON');
    }
    const mayBeUnstorable = ESCAPED_UNSTORABLE.test(text);
    if (req.channelType === 'whatsapp') return { scheme: 'meta', groups: parseMetaWhatsApp(body), mayBeUnstorable };
    if (req.channelType === 'telegram') return { scheme: 'telegram', groups: parseTelegram(body), mayBeUnstorable };
    const expected = req.channelType === 'facebook' ? 'page' : 'instagram';
    if ((body as { object?: unknown })?.object !== expected) throw new PayloadError(`object must be "${expected}"`);
    return { scheme: 'meta', groups: parseMessenger(body), mayBeUnstorable };
  } catch (err) {
    if (err instanceof PayloadError) throw badRequest(`Not a ${req.channelType} webhook payload: ${err.message}`);
    throw err;
  }
}

/** The routing lookup for one group: the address it names, narrowed by ?channel_id= / ?business_id=. */
function routeParams(req: WebhookRequest, scheme: Scheme, group: InboundGroup): unknown[] | undefined {
  // Meta names the number by its phone_number_id (a page or IG account by its id); Twilio by the
  // To number. The display number is not an address: two shops may type the same one.
  const address = req.channelType === 'telegram' ? req.query.channel_id
    : scheme === 'twilio' ? group.phone_number
    : group.account_id;
  if (!address) return undefined;
  return [req.channelType, [address], req.query.channel_id ?? null, req.query.business_id ?? null];
}

async function candidates(db: Database, params: unknown[] | undefined): Promise<Route[]> {
  if (!params) return [];
  return withoutTenant(db, async (tx) => (await tx.query<Route>(
    `SELECT DISTINCT business_id, channel_id FROM channel_routes
     WHERE channel_type = $1 AND address = ANY($2::text[])
       AND ($3::uuid IS NULL OR channel_id = $3) AND ($4::uuid IS NULL OR business_id = $4)`,
    params)).rows);
}

/**
 * The fast path (webhooks.ingest.ts): plain messages for channels found in the cache, written with
 * other requests' in one transaction. Undefined when the request needs the full path: statuses,
 * edits or deletions, a channel not found or not verifying from the cache, or a channel changed
 * since it was cached (then nothing of the request was stored).
 */
async function receiveFast(deps: { db: Database; config: Config }, req: WebhookRequest, parsed: Parsed): Promise<WebhookResult | undefined> {
  if (parsed.groups.some((g) => g.statuses.length || g.messages.some((m) => m.action))) return undefined;
  const items: IngestItem[] = [];
  for (const group of parsed.groups) {
    const params = routeParams(req, parsed.scheme, group);
    if (!params) return undefined;
    const routes = await cachedRoutes(deps.db, JSON.stringify(params), () => candidates(deps.db, params));
    let accepted: CachedChannel | undefined;
    for (const route of routes) {
      const c = await cachedChannel(deps.db, deps.config, route);
      if (c && verifies(parsed, req, c.channel, deps.config)) { accepted = c; break; }
    }
    if (!accepted) return undefined;
    items.push(...itemsOf(group, accepted, req.channelType, addressOf));
  }
  const result: WebhookResult = { received: 0, duplicates: 0, statuses: 0 };
  if (!items.length) return result;
  const outcomes = await ingestFor(deps.db).commit.submit(items);
  if (outcomes.some((o) => o.outcome === 'stale')) {
    for (const it of items) forgetChannel(deps.db, it.c);
    return undefined;
  }
  for (const o of outcomes) {
    if (o.outcome === 'new') result.received++;
    else result.duplicates++;
  }
  return result;
}

function verifies(parsed: Parsed, req: WebhookRequest, ch: ChannelWithSecrets, config: Config): boolean {
  switch (parsed.scheme) {
    case 'meta': {
      if (!ch.webhook_secret) return false;
      const sig = header(req.headers, 'x-hub-signature-256') ?? header(req.headers, 'x-signature');
      return verifyMetaSignature(req.raw, sig, ch.webhook_secret);
    }
    case 'twilio':
      return Boolean(ch.api_secret) && verifyTwilioSignature(`${config.publicBaseUrl}${req.url}`, parsed.twilioParams ?? [],
        header(req.headers, 'x-twilio-signature'), ch.api_secret!);
    case 'telegram':
      return Boolean(ch.webhook_secret) && verifyTelegramSecret(header(req.headers, 'x-telegram-bot-api-secret-token'), ch.webhook_secret!);
  }
}

export interface WebhookResult {
  received: number;
  duplicates: number;
  statuses: number;
}

export async function receiveWebhook(deps: { db: Database; config: Config }, req: WebhookRequest): Promise<WebhookResult> {
  ingestFor(deps.db).webhooks.note();
  if (!(WEBHOOK_CHANNEL_TYPES as readonly string[]).includes(req.channelType)) throw notFound(`Webhook for "${req.channelType}"`);
  if (req.channelType === 'telegram' && !req.query.channel_id) {
    throw badRequest('Telegram webhooks need ?channel_id= (set it in the URL given to setWebhook)');
  }
  const parsed = parse(req);
  if (parsed.mayBeUnstorable) parsed.groups = parsed.groups.map(storable);
  if (parsed.groups.length) {
    const fast = await receiveFast(deps, req, parsed);
    if (fast) return fast;
  }
  const result: WebhookResult = { received: 0, duplicates: 0, statuses: 0 };
  let routable = 0;
  const accepted: { group: InboundGroup; channel: ChannelWithSecrets }[] = [];
  const channelCache = new Map<string, ChannelWithSecrets | null>();

  for (const group of parsed.groups) {
    const routes = await candidates(deps.db, routeParams(req, parsed.scheme, group));
    if (!routes.length) continue;
    routable++;
    for (const route of routes) {
      if (!channelCache.has(route.channel_id)) {
        const ch = await withTenant(deps.db, route.business_id, (tx) => loadChannelWithSecrets(tx, deps.config.secretsKey, route.channel_id));
        channelCache.set(route.channel_id, ch && ch.is_active ? ch : null);
      }
      const ch = channelCache.get(route.channel_id);
      if (ch && verifies(parsed, req, ch, deps.config)) {
        accepted.push({ group, channel: ch });
        break;
      }
    }
  }
  // A well-formed payload with nothing for us (a Meta change of another field): 200, nothing stored.
  if (!parsed.groups.length) return result;
  if (!routable) throw notFound('Active channel for this webhook');
  if (!accepted.length) throw unauthorized('Missing or invalid webhook signature');

  for (const { group, channel } of accepted) {
    await withTenant(deps.db, channel.business_id, async (tx) => {
      const country = group.messages.length ? await businessCountry(tx) : 'IN';
      for (const m of group.messages) {
        const stored = await storeInbound(tx, channel, country, m, req.channelType);
        if (stored === 'new' || stored === 'changed') result.received++;
        else if (stored === 'duplicate') result.duplicates++;
      }
      for (const s of group.statuses) {
        const status = normaliseStatus(s.status);
        if (!status) continue;
        await applyStatus(tx, channel.business_id, channel.id, s.provider_message_id, status,
          { code: s.error_code ?? undefined, message: s.error_message ?? undefined });
        result.statuses++;
      }
    });
  }
  return result;
}

/** A copy of a parsed value with every NUL and lone surrogate removed; `touched` says whether any was. */
function clean<T>(v: T, touched: { any: boolean }): T {
  if (typeof v === 'string') {
    if (!hasUnstorable(v)) return v;
    touched.any = true;
    return withoutUnstorable(v) as T;
  }
  if (Array.isArray(v)) return v.map((x) => clean(x, touched)) as T;
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k, touched), clean(x, touched)])) as T;
  }
  return v;
}

/**
 * A provider's signed payload is accepted as sent, but PostgreSQL cannot store a NUL (nor an
 * unpaired surrogate) in text: they are removed, and the message's metadata says so
 * (`unstorable_removed: true`), so nobody mistakes the stored text for the exact original.
 */
function storable(group: InboundGroup): InboundGroup {
  const top = { any: false };
  const messages = group.messages.map((m) => {
    const touched = { any: false };
    const c = clean(m, touched);
    if (touched.any) top.any = true;
    return touched.any ? { ...c, metadata: { ...c.metadata, unstorable_removed: true } } : c;
  });
  const rest = clean({ account_id: group.account_id, phone_number: group.phone_number, statuses: group.statuses }, top);
  return top.any ? { ...rest, messages } : group;
}

/**
 * The counterpart's address on a channel, which is also where a reply goes: the E.164 number (or,
 * without one, Meta's business-scoped user id) on WhatsApp; the chat on Telegram; the PSID / IGSID
 * on Messenger and Instagram.
 */
export function addressOf(channelType: string, fromE164: string | null, m: InboundMessage): string | null {
  if (channelType === 'whatsapp') return fromE164 ?? m.from_user_id ?? m.from_number;
  return m.reply_to ?? m.from_user_id ?? m.from_number;
}

type Stored = 'new' | 'changed' | 'duplicate' | 'ignored';

async function storeInbound(tx: Tx, channel: ChannelWithSecrets, country: string, m: InboundMessage, channelType: string): Promise<Stored> {
  if (m.action && m.original_message_id) {
    let changed = await changeEarlier(tx, channel, m);
    if (changed === 'not_found') {
      // Held in a burst: filed now (or, if the inbound step is filing it, once it has), then changed.
      await fileHeldMessage(tx, channel.business_id, channel.id, m.original_message_id);
      changed = await changeEarlier(tx, channel, m);
    }
    if (changed !== 'not_found') return changed;
    // A deletion of a message we never stored leaves nothing to keep; an edit of one (it predates
    // the channel, say) is stored as that message, with its new text.
    if (m.action === 'delete') return 'ignored';
    m = { ...m, provider_message_id: m.original_message_id, metadata: { ...m.metadata, edited: true, edit_ids: [`edit:${m.provider_message_id}`] } };
  }
  const from = senderE164(m, country);
  const address = addressOf(channelType, from, m);
  // The customer: the one this conversation is linked to, else the one whose mobile this number is.
  const byMobile: string | null = from ? (await tx.query(`SELECT id FROM customers WHERE mobile = $1`, [from])).rows[0]?.id ?? null : null;
  const metadata = { ...m.metadata, profile_name: m.profile_name, reply_to: m.reply_to, channel_type: channelType, provider_timestamp: m.timestamp };
  // The message first: a concurrent copy of it waits here holding nothing, and a replay stops here.
  const r = await tx.query<{ id: string }>(
    // clock_timestamp(): messages of one batch keep their order (now() is the same for all of them).
    `INSERT INTO social_messages (business_id, channel_id, direction, status, from_number, from_user_id, to_number, message_text,
       message_type, customer_id, provider_message_id, metadata, edited_at, created_at)
     VALUES ($1, $2, 'inbound', 'received', $3, $4, $5, $6, $7, $8, $9, $10, $11, clock_timestamp())
     ON CONFLICT (business_id, channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
     RETURNING id`,
    [channel.business_id, channel.id, from ?? m.from_number, m.from_user_id, channel.phone_number ?? channel.account_id, m.text,
      m.message_type, byMobile, m.provider_message_id, JSON.stringify(metadata),
      m.metadata.edited ? m.timestamp : null]);
  if (!r.rows[0]) return 'duplicate';
  // Then its conversation; the customer is the one the conversation is linked to, else the one whose mobile this number is.
  const conversation = address
    ? await openConversation(tx, { business_id: channel.business_id, channel_id: channel.id, address, name: m.profile_name, customer_id: byMobile })
    : null;
  const customerId: string | null = conversation?.customer_id ?? byMobile;
  if (conversation) await fileInbound(tx, conversation.id, r.rows[0].id, conversation.customer_id);
  await recordEvent(tx, channel.business_id, 'message.received', { message_id: r.rows[0].id, channel_id: channel.id, customer_id: customerId });
  return 'new';
}

/**
 * An edit replaces the stored text and keeps the earlier ones in metadata.previous_texts; a
 * deletion (WhatsApp revoke, Messenger/Instagram unsend) marks the message deleted. A redelivered
 * edit (its id already in metadata.edit_ids) changes nothing.
 */
async function changeEarlier(tx: Tx, channel: ChannelWithSecrets, m: InboundMessage): Promise<Stored | 'not_found'> {
  const original = (await tx.query(
    `SELECT id, message_text, metadata, deleted_at, conversation_id FROM social_messages
     WHERE channel_id = $1 AND provider_message_id = $2 AND direction = 'inbound' FOR UPDATE`, [channel.id, m.original_message_id])).rows[0];
  if (!original) return 'not_found';
  // Changes already applied, by kind and event id (a redelivery changes nothing).
  const seen: string[] = Array.isArray(original.metadata?.edit_ids) ? original.metadata.edit_ids : [];
  const key = `${m.action}:${m.provider_message_id}`;
  if (seen.includes(key)) return 'duplicate';
  if (m.action === 'delete') {
    if (original.deleted_at) return 'duplicate';
    await tx.query(
      `UPDATE social_messages SET deleted_at = $2, updated_at = now(),
         metadata = metadata || jsonb_build_object('deleted', true, 'edit_ids', $3::jsonb) WHERE id = $1`,
      [original.id, m.timestamp, JSON.stringify([...seen, key])]);
  } else {
    const previous: string[] = Array.isArray(original.metadata?.previous_texts) ? original.metadata.previous_texts : [];
    await tx.query(
      `UPDATE social_messages SET message_text = $2, edited_at = $3, updated_at = now(),
         metadata = metadata || jsonb_build_object('edited', true, 'previous_texts', $4::jsonb, 'edit_ids', $5::jsonb) WHERE id = $1`,
      [original.id, m.text, m.timestamp, JSON.stringify([...previous, original.message_text]), JSON.stringify([...seen, key])]);
  }
  if (original.conversation_id) await tx.query(`UPDATE conversations SET updated_at = now() WHERE id = $1`, [original.conversation_id]);
  return 'changed';
}

/** Meta's GET handshake: the verify token must be an active channel's settings.verify_token. */
export async function verifyHandshake(db: Database, channelType: string, q: Record<string, string | undefined>): Promise<string | undefined> {
  if (!(WEBHOOK_CHANNEL_TYPES as readonly string[]).includes(channelType)) return undefined;
  const token = q['hub.verify_token'];
  if (q['hub.mode'] !== 'subscribe' || !token || q['hub.challenge'] === undefined) return undefined;
  // The routing index holds each channel's verify token as an address, so this is one lookup.
  const routes = await withoutTenant(db, (tx) => tx.query<Route>(
    `SELECT business_id, channel_id FROM channel_routes WHERE channel_type = $1 AND address = $2`, [channelType, `verify:${token}`]));
  for (const r of routes.rows) {
    const active = await withTenant(db, r.business_id, async (tx) => (await tx.query(
      `SELECT 1 FROM social_channels WHERE id = $1 AND is_active AND settings->>'verify_token' = $2`, [r.channel_id, token])).rows.length > 0);
    if (active) return q['hub.challenge'];
  }
  return undefined;
}
