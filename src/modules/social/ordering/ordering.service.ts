// Conversational ordering (SPEC §7): each new inbound message is read for intent and acted on.
//   order    → the sender's open lead (made if none) holds the matched items as the pending order;
//              the shop acknowledges on the same channel (template lead.ack, switchable)
//   confirm  → a known customer with a pending order from the last 24 hours gets a DRAFT sale
//              with those items (source "whatsapp"), the lead is converted; nothing to confirm,
//              nothing happens. An order that confirms itself ("yes, 2 cakes please") is both.
//   decline  → the pending order is dropped
//   STOP / START → the customer's whatsapp_opt_in
// Runs from the queue, at least once: every step checks what is already done.
import { recordEvent, type EventJob } from '../../../platform/events.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import { insertDraftSale } from '../../sales/sales.service.js';
import { detectIntent, type IntentResult, type UnclearItem } from '../intent/intent.js';
import { readDueDate } from '../intent/dates.js';
import { renderTemplate, pickLocale } from '../templates/templates.js';
import { templateBody } from '../templates/templates.service.js';
import { queueSend, recordOutbound, type NotifierDeps } from '../notifications/notifier.js';

const CONFIRM_WINDOW_MS = 24 * 3600 * 1000;
const OPEN = `status IN ('new', 'contacted', 'qualified')`;

interface PendingOrder { message_id: string; items: { product_id: string; name: string; quantity: number }[]; at: string; due_at?: string | null }

const MESSAGE_COLS = 'id, channel_id, conversation_id, from_number, from_user_id, message_text, customer_id, intent, metadata, created_at';

/**
 * Reads one new message — and, first, any earlier unread message from the same sender, so "2
 * cakes" is always read before the "yes" that follows it, whatever order the queue ran the jobs in.
 */
export async function handleInbound(deps: NotifierDeps, job: EventJob) {
  await withTenant(deps.db, job.business_id, async (tx) => {
    const ev = (await tx.query(`SELECT payload FROM events WHERE id = $1`, [job.event_id])).rows[0];
    if (!ev) return;
    const m = (await tx.query(`SELECT ${MESSAGE_COLS} FROM social_messages WHERE id = $1`, [ev.payload.message_id])).rows[0];
    if (!m || m.intent) return; // already handled (by an earlier run, or with an earlier message)
    const senderKey: string | null = m.from_number ?? m.from_user_id;
    // One sender's messages are read one transaction at a time.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${job.business_id}:${senderKey ?? m.id}`]);
    const unread = senderKey
      ? (await tx.query(
        `SELECT ${MESSAGE_COLS} FROM social_messages
         WHERE direction = 'inbound' AND intent IS NULL AND (from_number = $1 OR from_user_id = $1)
           AND (created_at, id) <= (SELECT created_at, id FROM social_messages WHERE id = $2)
         ORDER BY created_at, id FOR UPDATE`, [senderKey, m.id])).rows
      : (await tx.query(`SELECT ${MESSAGE_COLS} FROM social_messages WHERE id = $1 AND intent IS NULL FOR UPDATE`, [m.id])).rows;
    if (!unread.length) return;
    const catalog = (await tx.query(`SELECT id, name, sku FROM products WHERE archived_at IS NULL ORDER BY created_at LIMIT 2000`)).rows
      .map((p: any) => ({ id: p.id, name: p.name, aliases: p.sku ? [p.sku] : [] }));
    for (const msg of unread) await read(tx, deps, job.business_id, msg, catalog);
  });
}

async function read(tx: Tx, deps: NotifierDeps, businessId: string, m: any, catalog: { id: string; name: string; aliases: string[] }[]) {
  if (!m.message_text) {
    await tx.query(`UPDATE social_messages SET intent = 'other' WHERE id = $1`, [m.id]);
    return;
  }
  const intent = detectIntent(m.message_text, catalog);
  await tx.query(`UPDATE social_messages SET intent = $2, metadata = metadata || $3 WHERE id = $1`,
    [m.id, intent.intent, JSON.stringify({ items: intent.items, confirms: intent.confirms })]);
  await act(tx, deps, businessId, m, intent);
}

async function act(tx: Tx, deps: NotifierDeps, businessId: string, m: any, intent: IntentResult) {
  const senderKey: string | null = m.from_number ?? m.from_user_id;
  if (!senderKey) return;
  switch (intent.intent) {
    case 'opt_out':
    case 'opt_in':
      if (m.customer_id) {
        await tx.query(`UPDATE customers SET whatsapp_opt_in = $2, updated_at = now() WHERE id = $1`, [m.customer_id, intent.intent === 'opt_in']);
      }
      return;
    case 'order': {
      const lead = await openLead(tx, businessId, m, senderKey);
      const business = (await tx.query(`SELECT timezone FROM businesses WHERE id = app_business_id()`)).rows[0];
      const due = readDueDate(m.message_text, business.timezone, new Date(m.created_at));
      const dueFields = due ? { due_at: due.due_at, due_date: due.date, due_time_given: due.time_given, due_text: due.text } : {};
      // Never an empty or guessed draft: an order whose products are unclear, or not in the
      // catalog, is kept on the lead with the reason (and the candidates) for staff to see.
      const review = intent.unclear?.length
        ? { reason: 'ambiguous_product', message_id: m.id, unclear: intent.unclear }
        : !intent.items.length ? { reason: 'no_product_match', message_id: m.id } : null;
      if (review) {
        await tx.query(
          `UPDATE leads SET metadata = (metadata - 'pending_order') || jsonb_build_object('needs_review', $2::jsonb, 'last_message', $3::text,
             'items', $4::jsonb) || $5::jsonb, updated_at = now() WHERE id = $1`,
          [lead.id, JSON.stringify(review), m.message_text, JSON.stringify(intent.items), JSON.stringify(dueFields)]);
        if (intent.unclear?.length) await askWhich(tx, businessId, m, intent.unclear);
        else await acknowledge(tx, deps, businessId, m);
        return;
      }
      const pending: PendingOrder = { message_id: m.id, items: intent.items, at: new Date(m.created_at).toISOString(), due_at: due?.due_at ?? null };
      await tx.query(
        `UPDATE leads SET metadata = (metadata - 'needs_review') || jsonb_build_object('pending_order', $2::jsonb, 'last_message', $3::text,
           'items', $4::jsonb) || $5::jsonb, updated_at = now() WHERE id = $1`,
        [lead.id, JSON.stringify(pending), m.message_text, JSON.stringify(intent.items), JSON.stringify(dueFields)]);
      if (intent.confirms) await confirmOrder(tx, businessId, m, lead.id, pending);
      await acknowledge(tx, deps, businessId, m);
      return;
    }
    case 'confirm': {
      const lead = (await tx.query(`SELECT id, metadata FROM leads WHERE sender_key = $1 AND ${OPEN} FOR UPDATE`, [senderKey])).rows[0];
      const pending: PendingOrder | undefined = lead?.metadata?.pending_order ?? undefined;
      if (!lead || !pending) return; // a bare "yes" with nothing pending creates nothing
      if (new Date(m.created_at).getTime() - new Date(pending.at).getTime() > CONFIRM_WINDOW_MS) return;
      await confirmOrder(tx, businessId, m, lead.id, pending);
      return;
    }
    case 'decline':
      await tx.query(`UPDATE leads SET metadata = metadata - 'pending_order', updated_at = now() WHERE sender_key = $1 AND ${OPEN}`, [senderKey]);
      return;
    default:
      await autoReply(tx, businessId, m);
      return;
  }
}

/**
 * A stranger's first message that is not an order (a question, say) waits in the inbox with
 * needs_reply; if the channel asks for it (settings.notifications["message.auto_reply"], off by
 * default), they also get "thanks, we'll reply soon" at once.
 */
async function autoReply(tx: Tx, businessId: string, m: any) {
  if (m.customer_id || !m.conversation_id) return;
  const earlier = await tx.query(
    `SELECT 1 FROM social_messages WHERE conversation_id = $1 AND direction = 'inbound' AND (created_at, id) < ($2::timestamptz, $3::uuid) LIMIT 1`,
    [m.conversation_id, m.created_at, m.id]);
  if (earlier.rows.length) return;
  const lead = await tx.query(`SELECT 1 FROM conversations WHERE id = $1 AND lead_id IS NOT NULL`, [m.conversation_id]);
  if (lead.rows.length) return;
  await sendOnSameChannel(tx, businessId, m, 'message.auto_reply', false);
}

async function openLead(tx: Tx, businessId: string, m: any, senderKey: string): Promise<{ id: string }> {
  const existing = (await tx.query(`SELECT id FROM leads WHERE sender_key = $1 AND ${OPEN} FOR UPDATE`, [senderKey])).rows[0];
  if (existing) {
    if (m.conversation_id) await tx.query(`UPDATE conversations SET lead_id = $2 WHERE id = $1 AND lead_id IS DISTINCT FROM $2`, [m.conversation_id, existing.id]);
    return existing;
  }
  const channelType = m.metadata?.channel_type ?? 'whatsapp';
  const r = await tx.query<{ id: string }>(
    `INSERT INTO leads (business_id, channel_id, name, mobile, sender_key, source, customer_id, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (business_id, sender_key) WHERE status IN ('new', 'contacted', 'qualified') DO NOTHING RETURNING id`,
    [businessId, m.channel_id, m.metadata?.profile_name ?? null, m.from_number?.startsWith('+') ? m.from_number : null, senderKey,
      channelType, m.customer_id, JSON.stringify({ first_message_id: m.id, first_message: m.message_text })]);
  if (!r.rows[0]) return (await tx.query(`SELECT id FROM leads WHERE sender_key = $1 AND ${OPEN}`, [senderKey])).rows[0];
  await recordEvent(tx, businessId, 'lead.created', { lead_id: r.rows[0].id, message_id: m.id, mobile: m.from_number });
  // The conversation shows whose lead it is.
  if (m.conversation_id) await tx.query(`UPDATE conversations SET lead_id = $2, updated_at = now() WHERE id = $1`, [m.conversation_id, r.rows[0].id]);
  return r.rows[0];
}

/** A known customer's pending order becomes a draft sale for staff to review; never finalized here. */
async function confirmOrder(tx: Tx, businessId: string, m: any, leadId: string, pending: PendingOrder) {
  if (!m.customer_id || !pending.items.length) return;
  const saleId = await insertDraftSale(tx, businessId, null, {
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
}

/** "Which one would you like: Chocolate cake or Chocolate hamper?" */
async function askWhich(tx: Tx, businessId: string, m: any, unclear: UnclearItem[]) {
  const hindi = /[\u0900-\u097F]/.test(m.message_text);
  const names = [...new Set(unclear.flatMap((u) => u.candidates.map((c) => c.name)))];
  const or = hindi ? ' या ' : ' or ';
  const options = names.length > 1 ? `${names.slice(0, -1).join(', ')}${or}${names.at(-1)}` : names[0];
  await sendOnSameChannel(tx, businessId, m, 'lead.ask_which', true, { options });
}

/** "Thanks, we got your order" on the channel it came from, through the outbound path. */
async function acknowledge(tx: Tx, _deps: NotifierDeps, businessId: string, m: any) {
  await sendOnSameChannel(tx, businessId, m, 'lead.ack', true);
}

/** An automatic answer to message m, on its channel and in its conversation, switchable per channel. */
async function sendOnSameChannel(tx: Tx, businessId: string, m: any, event: 'lead.ack' | 'lead.ask_which' | 'message.auto_reply', defaultOn: boolean,
  extra: Record<string, string> = {}) {
  const channel = (await tx.query(`SELECT channel_type, settings, is_active FROM social_channels WHERE id = $1`, [m.channel_id])).rows[0];
  // Asking which product is part of the lead acknowledgement, and switched with it.
  const switchName = event === 'lead.ask_which' ? 'lead.ack' : event;
  if (!channel?.is_active || (channel.settings?.notifications?.[switchName] ?? defaultOn) !== true) return;
  const to: string | null = m.metadata?.reply_to ?? m.from_number;
  if (!to) return;
  const customer = m.customer_id
    ? (await tx.query(`SELECT name, locale, whatsapp_opt_in FROM customers WHERE id = $1`, [m.customer_id])).rows[0]
    : undefined;
  if (customer && !customer.whatsapp_opt_in) return;
  const business = (await tx.query(`SELECT name, locale FROM businesses WHERE id = app_business_id()`)).rows[0];
  const locale = pickLocale(customer?.locale ?? (/[\u0900-\u097F]/.test(m.message_text) ? 'hi' : null), business.locale);
  const text = renderTemplate(await templateBody(tx, event, locale), {
    customerName: customer?.name ?? m.metadata?.profile_name ?? '', businessName: business.name, ...extra,
  });
  const ack = await recordOutbound(tx, {
    business_id: businessId, channel_id: m.channel_id, conversation_id: m.conversation_id, to_number: to, message_text: text, message_type: 'text',
    customer_id: m.customer_id, reference_type: 'message', reference_id: m.id, event_type: event, metadata: { locale, in_reply_to: m.id },
  });
  if (ack.created) await queueSend(tx, businessId, ack.id);
}
