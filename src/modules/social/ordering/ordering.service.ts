// Conversational ordering (SPEC §7): each new inbound message is read for intent and acted on.
//   order    → the sender's open lead (made if none) holds the matched items as the pending order;
//              the shop acknowledges on the same channel (template lead.ack, switchable)
//   confirm  → a known customer with a pending order from the last 24 hours gets a DRAFT sale
//              with those items (source "whatsapp"), the lead is converted; nothing to confirm,
//              nothing happens. An order that confirms itself ("yes, 2 cakes please") is both.
//   decline  → the pending order is dropped
//   STOP / START → the customer's whatsapp_opt_in
// Runs from the queue, at least once: a message is read only while its intent is unset.
//
// The queue hands over a batch of message.received jobs; each business's share is read in one
// transaction: what does not change within it (business, catalog, channels, templates, the
// customers and open leads of the senders) is read once, every message's intent is written in one
// statement, and only messages that act (orders, confirmations, ...) cost statements of their own.
import { recordEvent, type EventJob } from '../../../platform/events.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import { insertDraftSale } from '../../sales/sales.service.js';
import { detectIntent, type CatalogEntry, type IntentResult, type UnclearItem } from '../intent/intent.js';
import { readDueDate } from '../intent/dates.js';
import { defaultTemplate, renderTemplate, pickLocale, type TemplateEvent } from '../templates/templates.js';
import { queueSend, recordOutbound, type NotifierDeps } from '../notifications/notifier.js';

const CONFIRM_WINDOW_MS = 24 * 3600 * 1000;
const OPEN = `status IN ('new', 'contacted', 'qualified')`;
/** Jobs the worker fetches at once: bounds a batch transaction's length (and the locks it holds). */
export const INBOUND_BATCH = 100;
/** Businesses of one batch read at once: the background's share of the connection pool. */
const BUSINESSES_AT_ONCE = 2;

interface PendingOrder { message_id: string; items: { product_id: string; name: string; quantity: number }[]; at: string; due_at?: string | null }

interface Message {
  id: string; channel_id: string; conversation_id: string | null; from_number: string | null; from_user_id: string | null;
  message_text: string | null; customer_id: string | null; intent: string | null; metadata: any; created_at: Date;
}
interface Customer { id: string; name: string; mobile: string; locale: string | null; whatsapp_opt_in: boolean }
interface Lead { id: string; metadata: any }

/** What a batch reads once and every message of it uses. */
interface Context {
  businessId: string;
  business: { name: string; locale: string; timezone: string };
  catalog: CatalogEntry[];
  channels: Map<string, { channel_type: string; settings: any; is_active: boolean }>;
  templates: Map<string, string>;
  customers: Map<string, Customer>;
  /** Open leads by sender key, kept current as the batch changes them. */
  leads: Map<string, Lead>;
}

const MESSAGE_COLS = 'id, channel_id, conversation_id, from_number, from_user_id, message_text, customer_id, intent, metadata, created_at';
const senderOf = (m: { from_number: string | null; from_user_id: string | null }) => m.from_number ?? m.from_user_id;

/** One job (a redelivery, a test): a batch of one. */
export async function handleInbound(deps: NotifierDeps, job: EventJob) {
  await handleInboundBatch(deps, [job]);
}

/** A batch of message.received jobs: one transaction per business, a few businesses at once. */
export async function handleInboundBatch(deps: NotifierDeps, jobs: EventJob[]) {
  const byBusiness = new Map<string, number[]>();
  for (const j of jobs) byBusiness.set(j.business_id, [...(byBusiness.get(j.business_id) ?? []), j.event_id]);
  const work = [...byBusiness];
  const failures: unknown[] = [];
  await Promise.all(Array.from({ length: Math.min(BUSINESSES_AT_ONCE, work.length) }, async () => {
    for (let next = work.shift(); next; next = work.shift()) {
      // One business failing does not hold back the others; the batch is retried whole (idempotent).
      await readBatch(deps, next[0], next[1]).catch((err) => { failures.push(err); });
    }
  }));
  if (failures.length) throw failures[0];
}

/**
 * Reads the new messages of these events — and, first, any earlier unread message from the same
 * senders, so "2 cakes" is always read before the "yes" that follows it, whatever order the queue
 * ran the jobs in.
 */
async function readBatch(deps: NotifierDeps, businessId: string, eventIds: number[]) {
  await withTenant(deps.db, businessId, async (tx) => {
    const fresh = (await tx.query<Message>(
      `SELECT ${MESSAGE_COLS.split(', ').map((c) => `m.${c}`).join(', ')} FROM events e
       JOIN social_messages m ON m.id = (e.payload->>'message_id')::uuid
       WHERE e.id = ANY($1::bigint[]) AND m.intent IS NULL`, [eventIds])).rows;
    if (!fresh.length) return; // already read (by an earlier run, or with an earlier message)
    // One sender's messages are read one transaction at a time; locks taken in one order, so two
    // batches with senders in common wait for each other instead of deadlocking.
    const keys = [...new Set(fresh.map((m) => `${businessId}:${senderOf(m) ?? m.id}`))];
    await tx.query(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`, [keys]);
    const senders = [...new Set(fresh.map(senderOf).filter((s): s is string => Boolean(s)))];
    const loners = fresh.filter((m) => !senderOf(m)).map((m) => m.id);
    const unread = (await tx.query<Message>(
      `SELECT ${MESSAGE_COLS} FROM social_messages
       WHERE direction = 'inbound' AND intent IS NULL AND (from_number = ANY($1::text[]) OR from_user_id = ANY($1::text[]) OR id = ANY($2::uuid[]))
       ORDER BY created_at, id FOR UPDATE`, [senders, loners])).rows;
    if (!unread.length) return;
    const ctx = await readContext(tx, businessId, unread);

    // A message stored without its customer (the webhook leaves the lookup to us) is the customer's
    // whose mobile its number is; its conversation is linked too, unless staff linked another.
    const found = unread.filter((m) => !m.customer_id && m.from_number?.startsWith('+') && ctx.customers.has(`mobile:${m.from_number}`));
    for (const m of found) m.customer_id = ctx.customers.get(`mobile:${m.from_number}`)!.id;
    const linked = found.filter((m) => m.conversation_id);
    if (linked.length) {
      await tx.query(
        `UPDATE conversations v SET customer_id = u.customer_id, updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS u(id, customer_id) WHERE v.id = u.id AND v.customer_id IS NULL`,
        [linked.map((m) => m.conversation_id), linked.map((m) => m.customer_id)]);
    }

    const read = unread.map((m) => ({ m, intent: m.message_text ? detectIntent(m.message_text, ctx.catalog) : null }));
    await tx.query(
      `UPDATE social_messages m SET intent = u.intent, metadata = m.metadata || u.patch, customer_id = coalesce(m.customer_id, u.customer_id)
       FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::uuid[]) AS u(id, intent, patch, customer_id) WHERE m.id = u.id`,
      [read.map((r) => r.m.id), read.map((r) => r.intent?.intent ?? 'other'),
        read.map((r) => JSON.stringify(r.intent ? { items: r.intent.items, confirms: r.intent.confirms } : {})),
        read.map((r) => r.m.customer_id)]);
    // The open leads of the senders who order, confirm or decline, locked for the batch.
    const leadSenders = [...new Set(read.filter((r) => r.intent && ['order', 'confirm', 'decline'].includes(r.intent.intent))
      .map((r) => senderOf(r.m)).filter((s): s is string => Boolean(s)))];
    if (leadSenders.length) {
      const open = await tx.query<Lead & { sender_key: string }>(
        `SELECT id, sender_key, metadata FROM leads WHERE sender_key = ANY($1::text[]) AND ${OPEN} FOR UPDATE`, [leadSenders]);
      for (const l of open.rows) ctx.leads.set(l.sender_key, { id: l.id, metadata: l.metadata });
    }
    for (const r of read) if (r.intent) await act(tx, deps, ctx, r.m, r.intent);
  });
}

/** The business, its catalog, the batch's channels, its message overrides and the senders' customers: one round trip. */
async function readContext(tx: Tx, businessId: string, unread: Message[]): Promise<Context> {
  const channelIds = [...new Set(unread.map((m) => m.channel_id))];
  const customerIds = [...new Set(unread.map((m) => m.customer_id).filter(Boolean))];
  const mobiles = [...new Set(unread.filter((m) => !m.customer_id && m.from_number?.startsWith('+')).map((m) => m.from_number))];
  const r = (await tx.query(
    `SELECT (SELECT row_to_json(b) FROM (SELECT name, locale, timezone FROM businesses WHERE id = app_business_id()) b) AS business,
       (SELECT coalesce(json_agg(p ORDER BY p.created_at), '[]') FROM
         (SELECT id, name, sku, created_at FROM products WHERE archived_at IS NULL ORDER BY created_at LIMIT 2000) p) AS catalog,
       (SELECT coalesce(json_agg(c), '[]') FROM (SELECT id, channel_type, settings, is_active FROM social_channels WHERE id = ANY($1::uuid[])) c) AS channels,
       (SELECT coalesce(json_agg(t), '[]') FROM (SELECT event, locale, body FROM message_templates
          WHERE event IN ('lead.ack', 'lead.ask_which', 'message.auto_reply')) t) AS templates,
       (SELECT coalesce(json_agg(c), '[]') FROM (SELECT id, name, mobile, locale, whatsapp_opt_in FROM customers
          WHERE id = ANY($2::uuid[]) OR mobile = ANY($3::text[])) c) AS customers`,
    [channelIds, customerIds, mobiles])).rows[0];
  const customers = new Map<string, Customer>();
  for (const c of r.customers as Customer[]) { customers.set(c.id, c); customers.set(`mobile:${c.mobile}`, c); }
  return {
    businessId,
    business: r.business,
    catalog: (r.catalog as any[]).map((p) => ({ id: p.id, name: p.name, aliases: p.sku ? [p.sku] : [] })),
    channels: new Map((r.channels as any[]).map((c) => [c.id, c])),
    templates: new Map((r.templates as any[]).map((t) => [`${t.event}/${t.locale}`, t.body])),
    customers,
    leads: new Map(),
  };
}

async function act(tx: Tx, deps: NotifierDeps, ctx: Context, m: Message, intent: IntentResult) {
  const senderKey = senderOf(m);
  if (!senderKey) return;
  switch (intent.intent) {
    case 'opt_out':
    case 'opt_in':
      if (m.customer_id) {
        const optIn = intent.intent === 'opt_in';
        await tx.query(`UPDATE customers SET whatsapp_opt_in = $2, updated_at = now() WHERE id = $1`, [m.customer_id, optIn]);
        const c = ctx.customers.get(m.customer_id);
        if (c) c.whatsapp_opt_in = optIn;
      }
      return;
    case 'order': {
      const lead = await openLead(tx, ctx, m, senderKey);
      const due = readDueDate(m.message_text!, ctx.business.timezone, new Date(m.created_at));
      const dueFields = due ? { due_at: due.due_at, due_date: due.date, due_time_given: due.time_given, due_text: due.text } : {};
      // Never an empty or guessed draft: an order whose products are unclear, or not in the
      // catalog, is kept on the lead with the reason (and the candidates) for staff to see.
      const review = intent.unclear?.length
        ? { reason: 'ambiguous_product', message_id: m.id, unclear: intent.unclear }
        : !intent.items.length ? { reason: 'no_product_match', message_id: m.id } : null;
      if (review) {
        await updateLead(tx, ctx, senderKey, lead.id,
          `(metadata - 'pending_order') || jsonb_build_object('needs_review', $2::jsonb, 'last_message', $3::text, 'items', $4::jsonb) || $5::jsonb`,
          [JSON.stringify(review), m.message_text, JSON.stringify(intent.items), JSON.stringify(dueFields)]);
        if (intent.unclear?.length) await askWhich(tx, ctx, m, intent.unclear);
        else await acknowledge(tx, ctx, m);
        return;
      }
      const pending: PendingOrder = { message_id: m.id, items: intent.items, at: new Date(m.created_at).toISOString(), due_at: due?.due_at ?? null };
      await updateLead(tx, ctx, senderKey, lead.id,
        `(metadata - 'needs_review') || jsonb_build_object('pending_order', $2::jsonb, 'last_message', $3::text, 'items', $4::jsonb) || $5::jsonb`,
        [JSON.stringify(pending), m.message_text, JSON.stringify(intent.items), JSON.stringify(dueFields)]);
      if (intent.confirms) await confirmOrder(tx, ctx, m, senderKey, lead.id, pending);
      await acknowledge(tx, ctx, m);
      return;
    }
    case 'confirm': {
      const lead = ctx.leads.get(senderKey);
      const pending: PendingOrder | undefined = lead?.metadata?.pending_order ?? undefined;
      if (!lead || !pending) return; // a bare "yes" with nothing pending creates nothing
      if (new Date(m.created_at).getTime() - new Date(pending.at).getTime() > CONFIRM_WINDOW_MS) return;
      await confirmOrder(tx, ctx, m, senderKey, lead.id, pending);
      return;
    }
    case 'decline': {
      const lead = ctx.leads.get(senderKey);
      if (lead) await updateLead(tx, ctx, senderKey, lead.id, `metadata - 'pending_order'`, []);
      return;
    }
    default:
      await autoReply(tx, ctx, m);
      return;
  }
}

/** Changes an open lead's metadata (to `expr`, params from $2) and keeps the batch's copy current. */
async function updateLead(tx: Tx, ctx: Context, senderKey: string, leadId: string, expr: string, params: unknown[]) {
  const r = await tx.query(`UPDATE leads SET metadata = ${expr}, updated_at = now() WHERE id = $1 RETURNING metadata`, [leadId, ...params]);
  ctx.leads.set(senderKey, { id: leadId, metadata: r.rows[0]?.metadata ?? {} });
}

/**
 * A stranger's first message that is not an order (a question, say) waits in the inbox with
 * needs_reply; if the channel asks for it (settings.notifications["message.auto_reply"], off by
 * default), they also get "thanks, we'll reply soon" at once.
 */
async function autoReply(tx: Tx, ctx: Context, m: Message) {
  if (m.customer_id || !m.conversation_id || !switchedOn(ctx, m, 'message.auto_reply', false)) return;
  const earlier = await tx.query(
    `SELECT 1 FROM social_messages WHERE conversation_id = $1 AND direction = 'inbound' AND (created_at, id) < ($2::timestamptz, $3::uuid) LIMIT 1`,
    [m.conversation_id, m.created_at, m.id]);
  if (earlier.rows.length) return;
  const lead = await tx.query(`SELECT 1 FROM conversations WHERE id = $1 AND lead_id IS NOT NULL`, [m.conversation_id]);
  if (lead.rows.length) return;
  await sendOnSameChannel(tx, ctx, m, 'message.auto_reply', false);
}

async function openLead(tx: Tx, ctx: Context, m: Message, senderKey: string): Promise<Lead> {
  const existing = ctx.leads.get(senderKey);
  if (existing) {
    if (m.conversation_id) await tx.query(`UPDATE conversations SET lead_id = $2 WHERE id = $1 AND lead_id IS DISTINCT FROM $2`, [m.conversation_id, existing.id]);
    return existing;
  }
  const channelType = m.metadata?.channel_type ?? 'whatsapp';
  const r = await tx.query<Lead>(
    `INSERT INTO leads (business_id, channel_id, name, mobile, sender_key, source, customer_id, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (business_id, sender_key) WHERE status IN ('new', 'contacted', 'qualified') DO NOTHING RETURNING id, metadata`,
    [ctx.businessId, m.channel_id, m.metadata?.profile_name ?? null, m.from_number?.startsWith('+') ? m.from_number : null, senderKey,
      channelType, m.customer_id, JSON.stringify({ first_message_id: m.id, first_message: m.message_text })]);
  if (!r.rows[0]) {
    // Opened meanwhile by someone else (staff): that one is the sender's lead.
    const other = (await tx.query<Lead>(`SELECT id, metadata FROM leads WHERE sender_key = $1 AND ${OPEN} FOR UPDATE`, [senderKey])).rows[0];
    ctx.leads.set(senderKey, other);
    return other;
  }
  ctx.leads.set(senderKey, r.rows[0]);
  await recordEvent(tx, ctx.businessId, 'lead.created', { lead_id: r.rows[0].id, message_id: m.id, mobile: m.from_number });
  // The conversation shows whose lead it is.
  if (m.conversation_id) await tx.query(`UPDATE conversations SET lead_id = $2, updated_at = now() WHERE id = $1`, [m.conversation_id, r.rows[0].id]);
  return r.rows[0];
}

/** A known customer's pending order becomes a draft sale for staff to review; never finalized here. */
async function confirmOrder(tx: Tx, ctx: Context, m: Message, senderKey: string, leadId: string, pending: PendingOrder) {
  if (!m.customer_id || !pending.items.length) return;
  const saleId = await insertDraftSale(tx, ctx.businessId, null, {
    customer_id: m.customer_id,
    items: pending.items.map((i) => ({ product_id: i.product_id, quantity: i.quantity })),
    source: 'whatsapp',
    notes: `Ordered on WhatsApp: "${String(m.message_text).slice(0, 500)}"`,
    due_at: pending.due_at ?? null,
  });
  await tx.query(
    `UPDATE leads SET status = 'converted', sale_id = $2, customer_id = $3, metadata = (metadata - 'pending_order') ||
       jsonb_build_object('confirmed_message_id', $4::text), updated_at = now() WHERE id = $1`,
    [leadId, saleId, m.customer_id, m.id]);
  ctx.leads.delete(senderKey); // converted: no longer open
}

/** "Which one would you like: Chocolate cake or Chocolate hamper?" */
async function askWhich(tx: Tx, ctx: Context, m: Message, unclear: UnclearItem[]) {
  const hindi = /[\u0900-\u097F]/.test(m.message_text!);
  const names = [...new Set(unclear.flatMap((u) => u.candidates.map((c) => c.name)))];
  const or = hindi ? ' या ' : ' or ';
  const options = names.length > 1 ? `${names.slice(0, -1).join(', ')}${or}${names.at(-1)}` : names[0];
  await sendOnSameChannel(tx, ctx, m, 'lead.ask_which', true, { options });
}

/** "Thanks, we got your order" on the channel it came from, through the outbound path. */
async function acknowledge(tx: Tx, ctx: Context, m: Message) {
  await sendOnSameChannel(tx, ctx, m, 'lead.ack', true);
}

/** Whether the message's channel is active and sends this automatic answer. */
function switchedOn(ctx: Context, m: Message, event: 'lead.ack' | 'lead.ask_which' | 'message.auto_reply', defaultOn: boolean) {
  const channel = ctx.channels.get(m.channel_id);
  // Asking which product is part of the lead acknowledgement, and switched with it.
  const switchName = event === 'lead.ask_which' ? 'lead.ack' : event;
  return Boolean(channel?.is_active) && (channel!.settings?.notifications?.[switchName] ?? defaultOn) === true;
}

/** An automatic answer to message m, on its channel and in its conversation, switchable per channel. */
async function sendOnSameChannel(tx: Tx, ctx: Context, m: Message, event: 'lead.ack' | 'lead.ask_which' | 'message.auto_reply', defaultOn: boolean,
  extra: Record<string, string> = {}) {
  if (!switchedOn(ctx, m, event, defaultOn)) return;
  const to: string | null = m.metadata?.reply_to ?? m.from_number;
  if (!to) return;
  const customer = m.customer_id ? ctx.customers.get(m.customer_id) : undefined;
  if (customer && !customer.whatsapp_opt_in) return;
  const locale = pickLocale(customer?.locale ?? (/[\u0900-\u097F]/.test(m.message_text ?? '') ? 'hi' : null), ctx.business.locale);
  const body = ctx.templates.get(`${event}/${locale}`) ?? defaultTemplate(event as TemplateEvent, locale);
  const text = renderTemplate(body, { customerName: customer?.name ?? m.metadata?.profile_name ?? '', businessName: ctx.business.name, ...extra });
  const ack = await recordOutbound(tx, {
    business_id: ctx.businessId, channel_id: m.channel_id, conversation_id: m.conversation_id, to_number: to, message_text: text, message_type: 'text',
    customer_id: m.customer_id, reference_type: 'message', reference_id: m.id, event_type: event, metadata: { locale, in_reply_to: m.id },
  });
  if (ack.created) await queueSend(tx, ctx.businessId, ack.id);
}
