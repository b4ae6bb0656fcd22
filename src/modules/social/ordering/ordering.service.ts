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
import { randomUUID } from 'node:crypto';
import { LISTENERS, recordEvent, type EventJob, type EventPayloads, type EventsJob } from '../../../platform/events.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import { insertDraftSale } from '../../sales/sales.service.js';
import { detectIntent, type CatalogEntry, type IntentResult, type UnclearItem } from '../intent/intent.js';
import { readDueDate } from '../intent/dates.js';
import { defaultTemplate, renderTemplate, pickLocale, type TemplateEvent } from '../templates/templates.js';
import { SEND_QUEUE, type NotifierDeps } from '../notifications/notifier.js';
import { fileHeld, takeHeldWakeup } from '../webhooks/webhooks.ingest.js';

const CONFIRM_WINDOW_MS = 24 * 3600 * 1000;
const OPEN = `status IN ('new', 'contacted', 'qualified')`;
/**
 * Jobs the worker fetches at once, and messages read in one transaction (a webhook batch's job
 * holds several messages, so a fetch may hold more: they are read this many at a time). A read
 * costs about twenty statements whatever its size, so larger reads cost less per message; it
 * bounds how long a transaction runs. The rows a webhook
 * also writes (conversations) are locked only by the last statements, just before the commit.
 */
export const INBOUND_BATCH = 200;
/** Businesses of one batch read at once: the background's share of the connection pool. */
const BUSINESSES_AT_ONCE = 2;

interface PendingOrder { message_id: string; items: { product_id: string; name: string; quantity: number }[]; at: string; due_at?: string | null }

interface Message {
  id: string; channel_id: string; conversation_id: string | null; from_number: string | null; from_user_id: string | null;
  message_text: string | null; customer_id: string | null; intent: string | null; metadata: any; created_at: Date; at_us: number;
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

// at_us: created_at in microseconds, to order by (a JS Date keeps milliseconds; messages of one webhook share them).
const MESSAGE_COLS = `id, channel_id, conversation_id, from_number, from_user_id, message_text, customer_id, intent, metadata, created_at,
  (extract(epoch FROM created_at) * 1000000)::bigint AS at_us`;
const senderOf = (m: { from_number: string | null; from_user_id: string | null }) => m.from_number ?? m.from_user_id;

/**
 * A batch of message.received jobs (one event each, or a webhook batch's events): one transaction
 * per business and INBOUND_BATCH messages, a few businesses at once. `afterRead` is awaited after
 * each read (one transaction) with how long it took: the runtime's give-way to busy webhooks.
 */
export async function handleInboundBatch(deps: NotifierDeps, jobs: (EventJob | EventsJob | HeldJob)[], afterRead?: (ms: number) => Promise<void>) {
  const byBusiness = new Map<string, number[]>();
  const held = new Set<string>();
  for (const j of jobs) {
    if (j.type === 'message.held') held.add(j.business_id);
    const ids = byBusiness.get(j.business_id) ?? [];
    if ('event_ids' in j) ids.push(...j.event_ids);
    else if ('event_id' in j) ids.push(j.event_id);
    byBusiness.set(j.business_id, ids); // a HeldJob: the business's held messages are filed by its first read
  }
  const work = [...byBusiness];
  const failures: unknown[] = [];
  const readAll = async (businessId: string, ids: number[]) => {
    // A held job's wakeup goes first: a message held from now on queues the next job. Every read
    // files held messages first; reads go on while some are left.
    if (held.has(businessId)) await takeHeldWakeup(deps.db, businessId);
    for (let at = 0, more = true; more || at < ids.length; at += INBOUND_BATCH) {
      const started = performance.now();
      const filed = await readBatch(deps, businessId, ids.slice(at, at + INBOUND_BATCH));
      more = filed === INBOUND_BATCH;
      await afterRead?.(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BUSINESSES_AT_ONCE, work.length) }, async () => {
    for (let next = work.shift(); next; next = work.shift()) {
      // One business failing does not hold back the others; the batch is retried whole (idempotent).
      await readAll(...next).catch((err) => { failures.push(err); });
    }
  }));
  if (failures.length) throw failures[0];
}

/**
 * Reads the new messages of these events — and, first, any earlier unread message from the same
 * senders, so "2 cakes" is always read before the "yes" that follows it, whatever order the queue
 * ran the jobs in.
 */
async function readBatch(deps: NotifierDeps, businessId: string, eventIds: number[]): Promise<number> {
  let filed = 0;
  await withTenant(deps.db, businessId, async (tx) => {
    // Messages held in a burst (webhooks.ingest.ts) are filed first, so that they are read in the
    // order they came with the rest: a sender's "yes" filed at once still finds the "2 cakes"
    // held before it.
    const held = await fileHeld(tx, INBOUND_BATCH);
    filed = held.taken;
    if (held.events.length) eventIds = [...eventIds, ...held.events];
    for (const f of held.failed) {
      deps.log.warn({ business_id: businessId, provider_message_id: f.provider_message_id, reason: f.reason },
        'a held message could not be filed: it stays in held_messages with the reason, and the others go on');
    }
    // The jobs' messages by their key. The ids are taken out of the payloads in a subquery of its
    // own: under row-level security a condition applying a function that is not leakproof (->>)
    // is no index condition, and a join on it would look for each message in the whole log.
    const fresh = (await tx.query<Message>(
      `SELECT ${MESSAGE_COLS} FROM social_messages
       WHERE id = ANY(ARRAY(SELECT (payload->>'message_id')::uuid FROM events WHERE id = ANY($1::bigint[]))) AND intent IS NULL`,
      [eventIds])).rows;
    if (!fresh.length) return; // already read (by an earlier run, or with an earlier message)
    // One sender's messages are read one transaction at a time; locks taken in one order, so two
    // batches with senders in common wait for each other instead of deadlocking.
    const keys = [...new Set(fresh.map((m) => `${businessId}:${senderOf(m) ?? m.id}`))];
    await tx.query(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`, [keys]);
    const loners = fresh.filter((m) => !senderOf(m)).map((m) => m.id);
    // The senders' unread messages by the backlog indexes: by number, and (Messenger, Instagram,
    // Telegram, a WhatsApp user without one) by user id; only inbound messages carry a sender.
    // Written so that only those indexes fit: one condition each (an OR, or coalesce(), which is
    // not leakproof and so under row-level security no index condition, would not fit), and no
    // `direction = 'inbound'`, which would fit the partial indexes of the whole inbound log — on
    // tables never analysed the planner guesses a business's share of those at one row, and would
    // read the business's whole log.
    const byNumber = [...new Set(fresh.map((m) => m.from_number).filter((s): s is string => Boolean(s)))];
    const byUser = [...new Set(fresh.filter((m) => !m.from_number && m.from_user_id).map((m) => m.from_user_id!))];
    // Up to the batch's newest message (compared in the database: a JS Date drops the
    // microseconds): later ones are their own jobs', so a batch stays about its size however long
    // the backlog.
    const freshIds = fresh.map((m) => m.id);
    const upTo = `created_at <= (SELECT max(created_at) FROM social_messages WHERE id = ANY($2::uuid[]))`;
    const unread: Message[] = [];
    if (byNumber.length) {
      unread.push(...(await tx.query<Message>(
        `SELECT ${MESSAGE_COLS} FROM social_messages WHERE intent IS NULL AND from_number = ANY($1::text[]) AND ${upTo} FOR UPDATE`,
        [byNumber, freshIds])).rows);
    }
    if (byUser.length) {
      unread.push(...(await tx.query<Message>(
        `SELECT ${MESSAGE_COLS} FROM social_messages
         WHERE intent IS NULL AND from_number IS NULL AND from_user_id = ANY($1::text[]) AND ${upTo} FOR UPDATE`,
        [byUser, freshIds])).rows);
    }
    if (loners.length) {
      unread.push(...(await tx.query<Message>(
        `SELECT ${MESSAGE_COLS} FROM social_messages WHERE id = ANY($1::uuid[]) AND intent IS NULL FOR UPDATE`, [loners])).rows);
    }
    // In the order they came (uuids compare as their hex text does).
    unread.sort((a, b) => a.at_us - b.at_us || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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
         FROM unnest($1::uuid[], $2::uuid[]) AS u(id, customer_id) WHERE v.id = u.id AND v.id = ANY($1::uuid[]) AND v.customer_id IS NULL`,
        [linked.map((m) => m.conversation_id), linked.map((m) => m.customer_id)]);
    }

    const read = unread.map((m) => ({ m, intent: m.message_text ? detectIntent(m.message_text, ctx.catalog) : null }));
    // Set-based writes join their rows to unnest(...) and also say `id = ANY(...)`: a key the
    // planner uses as an index condition even on tables it has no statistics for (a join alone
    // can be planned as a hash join over the business's whole share of the table).
    await tx.query(
      `UPDATE social_messages m SET intent = u.intent, metadata = m.metadata || u.patch, customer_id = coalesce(m.customer_id, u.customer_id)
       FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::uuid[]) AS u(id, intent, patch, customer_id) WHERE m.id = u.id AND m.id = ANY($1::uuid[])`,
      [read.map((r) => r.m.id), read.map((r) => r.intent?.intent ?? 'other'),
        read.map((r) => JSON.stringify(r.intent ? { items: r.intent.items, confirms: r.intent.confirms } : {})),
        read.map((r) => r.m.customer_id)]);
    // The open leads of the senders who order, confirm or decline, locked for the batch.
    const leadSenders = [...new Set(read.filter((r) => r.intent && ['order', 'confirm', 'decline'].includes(r.intent.intent))
      .map((r) => senderOf(r.m)).filter((s): s is string => Boolean(s)))];
    if (leadSenders.length) {
      const open = await tx.query<Lead & { sender_key: string }>(
        // One lookup per sender on (sender_key, business_id) of the open-lead index: written as
        // `sender_key = ANY(…)` the unanalysed planner may read the business's whole lead list instead.
        `SELECT l.id, l.sender_key, l.metadata FROM unnest($1::text[]) AS k(sender)
           CROSS JOIN LATERAL (SELECT id, sender_key, metadata FROM leads
             WHERE sender_key = k.sender AND business_id = app_business_id() AND ${OPEN} LIMIT 1 FOR UPDATE) l`, [leadSenders]);
      for (const l of open.rows) ctx.leads.set(l.sender_key, { id: l.id, metadata: l.metadata });
    }
    const changes: Changes = { newLeads: [], leads: new Map(), links: new Map(), outbound: [] };
    for (const r of read) if (r.intent) await act(tx, ctx, changes, r.m, r.intent);
    await flush(tx, deps, ctx, changes);
  });
  return filed;
}

/** A listener.inbound job queued by hold_messages(): the business has held messages to file. */
export interface HeldJob { business_id: string; type: 'message.held' }

/**
 * The business, its catalog, the batch's channels, its message overrides and the senders' customers: one round trip.
 * Customers by mobile are looked up one by one (LATERAL, kept apart by LIMIT 1: a mobile is unique
 * per business): with `mobile = ANY(…)` or a plain join, a planner without statistics may read the
 * business's whole customer index and filter by mobile.
 */
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
       (SELECT coalesce(json_agg(c), '[]') FROM (SELECT id, name, mobile, locale, whatsapp_opt_in FROM customers WHERE id = ANY($2::uuid[])
          UNION SELECT c.id, c.name, c.mobile, c.locale, c.whatsapp_opt_in FROM unnest($3::text[]) AS k(mobile)
            CROSS JOIN LATERAL (SELECT id, name, mobile, locale, whatsapp_opt_in FROM customers
              WHERE mobile = k.mobile AND business_id = app_business_id() LIMIT 1) c) c) AS customers`,
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

/**
 * What reading a batch changes, gathered while its messages are read one after another (a later
 * message sees what an earlier one did) and written at the end in a few set-based statements.
 */
interface Changes {
  /** Leads opened by this batch (their ids made here, so later messages can refer to them). */
  newLeads: { id: string; channel_id: string; name: string | null; mobile: string | null; sender_key: string; source: string; customer_id: string | null; metadata: object; message_id: string; from_number: string | null }[];
  /** Every lead changed, by id: its whole new state (the batch holds its row lock). */
  leads: Map<string, { metadata: any; status: string; sale_id: string | null; customer_id: string | null }>;
  /** Conversations to link to a lead; `opened`: the lead is new (the conversation counts as changed). */
  links: Map<string, { lead_id: string; opened: boolean }>;
  /** Automatic answers to send. */
  outbound: { id: string; channel_id: string; conversation_id: string | null; to_number: string; message_text: string; customer_id: string | null; reference_id: string; event_type: string; metadata: object }[];
}

async function act(tx: Tx, ctx: Context, ch: Changes, m: Message, intent: IntentResult) {
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
      const lead = openLead(ctx, ch, m, senderKey);
      const due = readDueDate(m.message_text!, ctx.business.timezone, new Date(m.created_at));
      const dueFields = due ? { due_at: due.due_at, due_date: due.date, due_time_given: due.time_given, due_text: due.text } : {};
      // Never an empty or guessed draft: an order whose products are unclear, or not in the
      // catalog, is kept on the lead with the reason (and the candidates) for staff to see.
      const review = intent.unclear?.length
        ? { reason: 'ambiguous_product', message_id: m.id, unclear: intent.unclear }
        : !intent.items.length ? { reason: 'no_product_match', message_id: m.id } : null;
      if (review) {
        const { pending_order: _, ...rest } = lead.metadata;
        changeLead(ctx, ch, senderKey, lead, { metadata: { ...rest, needs_review: review, last_message: m.message_text, items: intent.items, ...dueFields } });
        if (intent.unclear?.length) askWhich(ctx, ch, m, intent.unclear);
        else answer(ctx, ch, m, 'lead.ack', true);
        return;
      }
      const pending: PendingOrder = { message_id: m.id, items: intent.items, at: new Date(m.created_at).toISOString(), due_at: due?.due_at ?? null };
      const { needs_review: _, ...rest } = lead.metadata;
      changeLead(ctx, ch, senderKey, lead, { metadata: { ...rest, pending_order: pending, last_message: m.message_text, items: intent.items, ...dueFields } });
      if (intent.confirms) await confirmOrder(tx, ctx, ch, m, senderKey, pending);
      answer(ctx, ch, m, 'lead.ack', true);
      return;
    }
    case 'confirm': {
      const lead = ctx.leads.get(senderKey);
      const pending: PendingOrder | undefined = lead?.metadata?.pending_order ?? undefined;
      if (!lead || !pending) return; // a bare "yes" with nothing pending creates nothing
      if (new Date(m.created_at).getTime() - new Date(pending.at).getTime() > CONFIRM_WINDOW_MS) return;
      await confirmOrder(tx, ctx, ch, m, senderKey, pending);
      return;
    }
    case 'decline': {
      const lead = ctx.leads.get(senderKey);
      if (lead) {
        const { pending_order: _, ...rest } = lead.metadata;
        changeLead(ctx, ch, senderKey, lead, { metadata: rest });
      }
      return;
    }
    default:
      await autoReply(tx, ctx, ch, m);
      return;
  }
}

/** Records a lead's new state; a lead no longer open leaves the batch's open leads. */
function changeLead(ctx: Context, ch: Changes, senderKey: string, lead: Lead,
  change: { metadata: any; status?: string; sale_id?: string; customer_id?: string | null }) {
  const before = ch.leads.get(lead.id) ?? { status: 'open', sale_id: null, customer_id: null };
  const next = {
    metadata: change.metadata, status: change.status ?? before.status, sale_id: change.sale_id ?? before.sale_id,
    customer_id: change.customer_id ?? before.customer_id,
  };
  ch.leads.set(lead.id, next);
  lead.metadata = change.metadata;
  if (change.status) ctx.leads.delete(senderKey);
}

/** Writes what the batch changed: new leads and their events, lead states, conversation links, answers and their sends. */
async function flush(tx: Tx, deps: NotifierDeps, ctx: Context, ch: Changes) {
  // Leads that were open first (one converted here frees its sender for a new one), then the new
  // ones, each written in its final state.
  const opened = new Set(ch.newLeads.map((l) => l.id));
  const changed = [...ch.leads.keys()].filter((id) => !opened.has(id));
  if (changed.length) {
    const states = changed.map((id) => ch.leads.get(id)!);
    await tx.query(
      `UPDATE leads l SET metadata = x.metadata, updated_at = now(),
         status = CASE WHEN x.status = 'open' THEN l.status ELSE x.status END,
         sale_id = coalesce(x.sale_id, l.sale_id), customer_id = coalesce(x.customer_id, l.customer_id)
       FROM unnest($1::uuid[], $2::jsonb[], $3::text[], $4::uuid[], $5::uuid[]) AS x(id, metadata, status, sale_id, customer_id)
       WHERE l.id = x.id AND l.id = ANY($1::uuid[])`,
      [changed, states.map((s) => JSON.stringify(s.metadata)), states.map((s) => s.status), states.map((s) => s.sale_id), states.map((s) => s.customer_id)]);
  }
  if (ch.newLeads.length) {
    const rows = ch.newLeads.map((l) => {
      const now = ch.leads.get(l.id);
      return { ...l, metadata: JSON.stringify(now?.metadata ?? l.metadata), status: now && now.status !== 'open' ? now.status : 'new',
        sale_id: now?.sale_id ?? null, customer_id: now?.customer_id ?? l.customer_id };
    });
    const made = await tx.query<{ id: string }>(
      `INSERT INTO leads (business_id, id, channel_id, name, mobile, sender_key, source, customer_id, metadata, status, sale_id)
       SELECT $1, x.id, x.channel_id, x.name, x.mobile, x.sender_key, x.source, x.customer_id, x.metadata, x.status, x.sale_id
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::jsonb[], $10::text[], $11::uuid[])
         AS x(id, channel_id, name, mobile, sender_key, source, customer_id, metadata, status, sale_id)
       ON CONFLICT (business_id, sender_key) WHERE status IN ('new', 'contacted', 'qualified') DO NOTHING RETURNING id`,
      [ctx.businessId, ...columns(rows, ['id', 'channel_id', 'name', 'mobile', 'sender_key', 'source', 'customer_id', 'metadata', 'status', 'sale_id'])]);
    // A lead opened meanwhile by someone else (staff, between our read and now): the batch is
    // read again from the start, and then finds it.
    if (made.rows.length !== rows.length) throw new Error('a sender\'s lead was opened concurrently; the batch is read again');
    await recordEvents(tx, ctx.businessId, 'lead.created',
      ch.newLeads.map((l) => ({ lead_id: l.id, message_id: l.message_id, mobile: l.from_number })));
  }
  if (ch.links.size) {
    const ids = [...ch.links.keys()];
    await tx.query(
      `UPDATE conversations v SET lead_id = x.lead_id, updated_at = CASE WHEN x.opened THEN now() ELSE v.updated_at END
       FROM unnest($1::uuid[], $2::uuid[], $3::boolean[]) AS x(id, lead_id, opened)
       WHERE v.id = x.id AND v.id = ANY($1::uuid[]) AND v.lead_id IS DISTINCT FROM x.lead_id`,
      [ids, ids.map((id) => ch.links.get(id)!.lead_id), ids.map((id) => ch.links.get(id)!.opened)]);
  }
  if (ch.outbound.length) {
    // Once per (channel, recipient, event, message): an answer already written is not written or sent again.
    const made = await tx.query<{ id: string }>(
      `INSERT INTO social_messages (business_id, id, channel_id, direction, status, to_number, message_text, message_type,
         customer_id, reference_type, reference_id, event_type, metadata, conversation_id)
       SELECT $1, x.id, x.channel_id, 'outbound', 'pending', x.to_number, x.message_text, 'text', x.customer_id, 'message', x.reference_id,
         x.event_type, x.metadata, x.conversation_id
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::uuid[], $8::text[], $9::jsonb[], $10::uuid[])
         AS x(id, channel_id, to_number, message_text, customer_id, reference_id, event_type, metadata, conversation_id)
       ON CONFLICT (business_id, channel_id, to_number, event_type, reference_id) WHERE direction = 'outbound' DO NOTHING
       RETURNING id`,
      [ctx.businessId, ...columns(ch.outbound, ['id', 'channel_id', 'to_number', 'message_text', 'customer_id', 'reference_id', 'event_type']),
        ch.outbound.map((o) => JSON.stringify(o.metadata)), ch.outbound.map((o) => o.conversation_id)]);
    const created = new Set(made.rows.map((r) => r.id));
    const sent = ch.outbound.filter((o) => created.has(o.id));
    // Each conversation's last message becomes its latest answer.
    const last = new Map<string, string>();
    for (const o of sent) if (o.conversation_id) last.set(o.conversation_id, o.id);
    if (last.size) {
      await tx.query(
        `UPDATE conversations v SET
           last_message_id = CASE WHEN m.created_at >= coalesce(v.last_message_at, '-infinity') THEN m.id ELSE v.last_message_id END,
           last_message_at = greatest(v.last_message_at, m.created_at), updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS x(conversation_id, message_id) JOIN social_messages m ON m.id = x.message_id
         WHERE v.id = x.conversation_id AND v.id = ANY($1::uuid[]) AND m.id = ANY($2::uuid[])`, [[...last.keys()], [...last.values()]]);
    }
    await deps.queue.sendManyInTx(tx.handle, SEND_QUEUE, sent.map((o) => ({ business_id: ctx.businessId, message_id: o.id })));
    if (sent.length) tx.afterCommit(() => deps.queue.wake(SEND_QUEUE));
  }
}

const columns = <T>(rows: T[], keys: (keyof T)[]) => keys.map((k) => rows.map((r) => r[k] ?? null));

/** Events of one type recorded together; a type some listener hears goes through recordEvent, one by one, for its jobs. */
async function recordEvents<E extends 'lead.created'>(tx: Tx, businessId: string, type: E, payloads: EventPayloads[E][]) {
  if (Object.values(LISTENERS).some((types) => types.includes(type))) {
    for (const p of payloads) await recordEvent(tx, businessId, type, p);
    return;
  }
  await tx.query(`INSERT INTO events (business_id, type, payload) SELECT $1, $2, p FROM unnest($3::jsonb[]) AS p`,
    [businessId, type, payloads.map((p) => JSON.stringify(p))]);
}

/**
 * A stranger's first message that is not an order (a question, say) waits in the inbox with
 * needs_reply; if the channel asks for it (settings.notifications["message.auto_reply"], off by
 * default), they also get "thanks, we'll reply soon" at once.
 */
async function autoReply(tx: Tx, ctx: Context, ch: Changes, m: Message) {
  if (m.customer_id || !m.conversation_id || !switchedOn(ctx, m, 'message.auto_reply', false)) return;
  const earlier = await tx.query(
    `SELECT 1 FROM social_messages WHERE conversation_id = $1 AND direction = 'inbound' AND (created_at, id) < ($2::timestamptz, $3::uuid) LIMIT 1`,
    [m.conversation_id, m.created_at, m.id]);
  if (earlier.rows.length) return;
  if (ch.links.has(m.conversation_id)) return;
  const lead = await tx.query(`SELECT 1 FROM conversations WHERE id = $1 AND lead_id IS NOT NULL`, [m.conversation_id]);
  if (lead.rows.length) return;
  answer(ctx, ch, m, 'message.auto_reply', false);
}

/** The sender's open lead: the one they have, else a new one (written at the end of the batch). */
function openLead(ctx: Context, ch: Changes, m: Message, senderKey: string): Lead {
  let lead = ctx.leads.get(senderKey);
  if (!lead) {
    const metadata = { first_message_id: m.id, first_message: m.message_text };
    lead = { id: randomUUID(), metadata };
    ch.newLeads.push({
      id: lead.id, channel_id: m.channel_id, name: m.metadata?.profile_name ?? null, mobile: m.from_number?.startsWith('+') ? m.from_number : null,
      sender_key: senderKey, source: m.metadata?.channel_type ?? 'whatsapp', customer_id: m.customer_id, metadata, message_id: m.id, from_number: m.from_number,
    });
    ctx.leads.set(senderKey, lead);
    // The conversation shows whose lead it is.
    if (m.conversation_id) ch.links.set(m.conversation_id, { lead_id: lead.id, opened: true });
  } else if (m.conversation_id) {
    const link = ch.links.get(m.conversation_id);
    if (link?.lead_id !== lead.id) ch.links.set(m.conversation_id, { lead_id: lead.id, opened: false });
  }
  return lead;
}

/** A known customer's pending order becomes a draft sale for staff to review; never finalized here. */
async function confirmOrder(tx: Tx, ctx: Context, ch: Changes, m: Message, senderKey: string, pending: PendingOrder) {
  if (!m.customer_id || !pending.items.length) return;
  const lead = ctx.leads.get(senderKey)!;
  const saleId = await insertDraftSale(tx, ctx.businessId, null, {
    customer_id: m.customer_id,
    items: pending.items.map((i) => ({ product_id: i.product_id, quantity: i.quantity })),
    source: 'whatsapp',
    notes: `Ordered on WhatsApp: "${String(m.message_text).slice(0, 500)}"`,
    due_at: pending.due_at ?? null,
  });
  const { pending_order: _, ...rest } = lead.metadata;
  changeLead(ctx, ch, senderKey, lead, { metadata: { ...rest, confirmed_message_id: m.id }, status: 'converted', sale_id: saleId, customer_id: m.customer_id });
}

/** "Which one would you like: Chocolate cake or Chocolate hamper?" */
function askWhich(ctx: Context, ch: Changes, m: Message, unclear: UnclearItem[]) {
  const hindi = /[\u0900-\u097F]/.test(m.message_text!);
  const names = [...new Set(unclear.flatMap((u) => u.candidates.map((c) => c.name)))];
  const or = hindi ? ' या ' : ' or ';
  const options = names.length > 1 ? `${names.slice(0, -1).join(', ')}${or}${names.at(-1)}` : names[0];
  answer(ctx, ch, m, 'lead.ask_which', true, { options });
}

/** Whether the message's channel is active and sends this automatic answer. */
function switchedOn(ctx: Context, m: Message, event: 'lead.ack' | 'lead.ask_which' | 'message.auto_reply', defaultOn: boolean) {
  const channel = ctx.channels.get(m.channel_id);
  // Asking which product is part of the lead acknowledgement, and switched with it.
  const switchName = event === 'lead.ask_which' ? 'lead.ack' : event;
  return Boolean(channel?.is_active) && (channel!.settings?.notifications?.[switchName] ?? defaultOn) === true;
}

/**
 * An automatic answer to message m ("thanks, we got your order"), on its channel and in its
 * conversation, switchable per channel; sent through the outbound path.
 */
function answer(ctx: Context, ch: Changes, m: Message, event: 'lead.ack' | 'lead.ask_which' | 'message.auto_reply', defaultOn: boolean,
  extra: Record<string, string> = {}) {
  if (!switchedOn(ctx, m, event, defaultOn)) return;
  const to: string | null = m.metadata?.reply_to ?? m.from_number;
  if (!to) return;
  const customer = m.customer_id ? ctx.customers.get(m.customer_id) : undefined;
  if (customer && !customer.whatsapp_opt_in) return;
  const locale = pickLocale(customer?.locale ?? (/[\u0900-\u097F]/.test(m.message_text ?? '') ? 'hi' : null), ctx.business.locale);
  const body = ctx.templates.get(`${event}/${locale}`) ?? defaultTemplate(event as TemplateEvent, locale);
  const text = renderTemplate(body, { customerName: customer?.name ?? m.metadata?.profile_name ?? '', businessName: ctx.business.name, ...extra });
  ch.outbound.push({
    id: randomUUID(), channel_id: m.channel_id, conversation_id: m.conversation_id, to_number: to, message_text: text,
    customer_id: m.customer_id, reference_id: m.id, event_type: event, metadata: { locale, in_reply_to: m.id },
  });
}
