// The social listener: turns business events into WhatsApp notifications (SPEC §6).
//
// handleEvent renders the message and writes it `pending` under a unique key (business, channel,
// recipient, event, reference) — so one event yields at most one message however often it is
// delivered — then deliver() claims it with a short lease (so two workers never send it at once),
// books a slot under the channel's rate cap (pace.ts), waits for it, sends, and records the outcome.
import type { Config } from '../../../config.js';
import type { Database } from '../../../platform/db.js';
import type { EventJob, EventType } from '../../../platform/events.js';
import { literal, prepared } from '../../../platform/db.js';
import { tenantScript, withTenant, type Tx } from '../../../platform/tenancy.js';
import type { Queue } from '../../../platform/queue.js';
import { channelWithSecrets, loadChannelWithSecrets, markNeedsAttention, whyNotSending, type ChannelWithSecrets } from '../channels/channels.service.js';
import { templateBody, templateOverridesSql } from '../templates/templates.service.js';
import { formatMoney, pickLocale, renderTemplate, type TemplateEvent } from '../templates/templates.js';
import { createProvider, DEFAULT_TIMEOUT_MS, providerNameFor, type SendResult } from '../providers/provider.js';
import { redact } from '../providers/http.js';
import { applyPendingStatuses } from './statuses.js';
import { noteMessageSql } from '../conversations/conversations.repo.js';
import { chooseDestination, DESTINATION_COLUMNS, DESTINATION_JOINS, openDestination } from './destination.js';
import { bookingArgs, bookingParams, bookSlot, BOOKING_HORIZON_MS, localPace, slotOf, type BookingRow } from './pace.js';

export const SEND_QUEUE = 'social.send';
export const MAX_ATTEMPTS = 8;
/**
 * A sender's lease on a message: the longest a send can take (a booked slot is at most the booking
 * horizon away, and a late sender books once more; then the provider's timeout) and a little more. A sender that died holds its
 * messages this long at most; then another sends them.
 */
export const LEASE_SECONDS = Math.ceil((2 * BOOKING_HORIZON_MS + DEFAULT_TIMEOUT_MS) / 1000) + 2;
/** Events whose switch is off unless the business turns it on. */
const DEFAULT_OFF = new Set<string>(['production.step.completed']);

export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NotifierDeps {
  db: Database;
  config: Config;
  queue: Queue;
  log: Log;
}

/** What each event's message is about: the row it refers to. */
function referenceOf(type: EventType, p: any): [string, string] | undefined {
  switch (type) {
    case 'sale.created': return ['sale', p.sale_id];
    case 'production.created':
    case 'production.completed': return ['production', p.production_order_id];
    case 'production.step.completed': return ['production_step', p.step_id];
    case 'order.ready': return ['order', p.production_order_id];
    case 'payment.received': return ['payment', p.payment_id];
    case 'order.cancelled': return ['sale', p.sale_id];
    default: return undefined;
  }
}

/**
 * The event with everything it is rendered from (its customer, the business, the business's own
 * wording of the event's template) and where it could go (destination.ts) in one statement: the
 * notifier's round trips are its cost.
 */
const EVENT_TO_RENDER = prepared(
  `SELECT e.type, e.payload, b.name AS business_name, b.currency, b.locale AS business_locale,
     c.id AS customer_id, c.name AS customer_name, c.mobile, c.locale AS customer_locale, c.whatsapp_opt_in,
     ${templateOverridesSql('e.type')} AS overrides, ${DESTINATION_COLUMNS}
   FROM events e JOIN businesses b ON b.id = app_business_id()
     -- By its key, whatever the planner knows of the table (LIMIT 1: one lookup per event).
     LEFT JOIN LATERAL (SELECT c.id, c.name, c.mobile, c.locale, c.whatsapp_opt_in FROM customers c WHERE c.id = (e.payload->>'customer_id')::uuid LIMIT 1) c ON true
     ${DESTINATION_JOINS}
   WHERE e.id = $1`);

/**
 * Renders and stores the message for one event, leased to this sender when it is new; returns it
 * claimed (see claim()), or the id of a message stored before and still pending, or nothing.
 */
async function prepare(tx: Tx, deps: NotifierDeps, job: EventJob): Promise<Claimed | string | undefined> {
  const ev = (await tx.query(EVENT_TO_RENDER, [job.event_id])).rows[0];
  if (!ev) return undefined;
  const type = ev.type as EventType;
  const p = ev.payload;
  const ref = referenceOf(type, p);
  if (!ref || !p.customer_id) return undefined;
  const skip = (reason: string) => { deps.log.info({ event_id: job.event_id, type, reason }, 'notification skipped'); return undefined; };

  if (!ev.customer_id) return skip('no such customer');
  const customer = { id: ev.customer_id as string, name: ev.customer_name as string, mobile: ev.mobile as string | null };
  if (!ev.whatsapp_opt_in) return skip('customer opted out');
  const chosen = chooseDestination(ev, customer);
  if ('skip' in chosen) return skip(chosen.skip);
  const on = chosen.channel.settings?.notifications?.[type] ?? !DEFAULT_OFF.has(type);
  if (!on) return skip('switched off for this channel');
  const dest = await openDestination(tx, job.business_id, chosen, customer.id);
  const { channel } = dest;

  const locale = pickLocale(ev.customer_locale, ev.business_locale);
  const money = (v: string | undefined) => (v === undefined ? undefined : formatMoney(v, ev.currency, ev.business_locale));
  const vars: Record<string, string | undefined> = {
    customerName: customer.name,
    businessName: ev.business_name,
    invoiceNo: p.invoice_no,
    total: money(p.total),
    orderNo: p.order_no,
    amount: money(p.amount),
    balance: money(p.balance),
    stepName: p.step_name,
  };
  if (!vars.invoiceNo && p.sale_id) vars.invoiceNo = (await tx.query(prepared(`SELECT invoice_no FROM sales WHERE id = $1`), [p.sale_id])).rows[0]?.invoice_no;
  const text = renderTemplate(templateBody(ev.overrides, type as TemplateEvent, locale), vars);
  // WhatsApp's customer-service window: within 24 hours of the customer's last message any text may
  // be sent; outside it only an approved template. A mapped template is used outside the window
  // (and kept in metadata, so a text refused with 131047 can fall back to it).
  const mapped = channel.channel_type === 'whatsapp' ? channel.settings?.templates?.[type] : undefined;
  const mappedTemplate = mapped ? { name: mapped.name, language: mapped.language, params: (mapped.params ?? []).map((v: string) => vars[v] ?? '') } : null;
  const inWindow = dest.in_window;
  const template = inWindow ? null : mappedTemplate;

  const ch = channelWithSecrets(deps.config.secretsKey, channel);
  // The slot is booked by the statement that writes the message (one round trip less), as the
  // transaction's last statement.
  const book = slotBooked(deps, ch) ? { maxPerSecond: maxPerSecondOf(ch), marginMs: deps.config.sendJitterMarginMs } : undefined;
  const stored = await recordOutbound(tx, {
    business_id: job.business_id, channel_id: channel.id, conversation_id: dest.conversation_id, to_number: dest.to, message_text: text,
    message_type: template ? 'template' : 'text', customer_id: customer.id, reference_type: ref[0], reference_id: ref[1],
    event_type: type, template_name: template?.name ?? null,
    metadata: {
      event_id: job.event_id, locale, in_window: inWindow, route: { reason: dest.reason, channel_type: channel.channel_type },
      ...(template ? { template } : {}), ...(mappedTemplate ? { fallback_template: mappedTemplate } : {}),
    },
  }, { lease: true, book });
  if (stored.leased) return booked(tx, deps, job.business_id, stored.leased, ch, stored.booking);
  // Recorded before: only a message still pending (its send was cut off) is worth another try.
  return stored.status === 'pending' ? stored.id : undefined;
}

export interface OutboundRecord {
  /** The message's id when the caller needs it beforehand (a reply refers to itself). */
  id?: string;
  business_id: string; channel_id: string; to_number: string; message_text: string; message_type: 'text' | 'template';
  customer_id: string | null; reference_type: string; reference_id: string; event_type: string;
  template_name?: string | null; metadata: Record<string, unknown>;
  /** The conversation it belongs to: it becomes that conversation's last message. */
  conversation_id?: string | null;
  /** The user who wrote it (a reply); automatic messages have none. */
  sent_by?: string | null;
}

/** A message leased to its sender: what the send needs. */
interface Leased { id: string; channel_id: string; to_number: string; message_text: string; metadata: any; attempts: number }

/**
 * The INSERT of recordOutbound(), which files the message in its conversation. `book`: the
 * statement then books the message's send slot (book_send_slot, pace.ts) as well, one round trip
 * instead of two, and still the transaction's last statement. The booking takes the conversation's
 * channel as its argument, so it runs only once the conversation's row is updated (and locked):
 * the locks are taken in the order the two statements took them, the conversation's first, or a
 * notification that opened the conversation and one that booked first would wait for each other.
 */
const recordOutboundSql = (book: boolean) =>
  `WITH m AS (
     INSERT INTO social_messages (business_id, id, channel_id, direction, status, to_number, message_text, message_type,
       customer_id, reference_type, reference_id, event_type, template_name, metadata, conversation_id, sent_by, attempts, locked_until)
     VALUES ($1, coalesce($2::uuid, gen_random_uuid()), $3, 'outbound', 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
       CASE WHEN $15 THEN 1 ELSE 0 END, CASE WHEN $15 THEN now() + make_interval(secs => $16) END)
     ON CONFLICT (business_id, channel_id, to_number, event_type, reference_id) WHERE direction = 'outbound' DO NOTHING
     RETURNING id, created_at, direction, channel_id, to_number, message_text, metadata, attempts, conversation_id),
   filed AS (${noteMessageSql('m', 'v.id = m.conversation_id')}${book ? ' RETURNING v.channel_id' : ''})
   SELECT m.id, m.channel_id, m.to_number, m.message_text, m.metadata, m.attempts${book ? `, s.slot_at, s.retry_in_ms, s.db_now
   FROM m LEFT JOIN filed f ON true
     LEFT JOIN LATERAL (SELECT * FROM book_send_slot($1, f.channel_id, ${bookingArgs(17)}) WHERE f.channel_id IS NOT NULL) s ON true` : ' FROM m'}`;
const RECORD_OUTBOUND = prepared(recordOutboundSql(false));
const RECORD_AND_BOOK = prepared(recordOutboundSql(true));

/**
 * Writes an outbound message `pending`, once per (channel, recipient, event, reference): the unique
 * key decides, so a second writer gets the existing row back (with its status) instead of a copy.
 * It is filed in its conversation by the same statement. `lease`: a new message is written already
 * leased to this sender, as claim() would lease it (its attempt counted), saving a second rewrite.
 */
export async function recordOutbound(tx: Tx, o: OutboundRecord, opts: { lease?: boolean; book?: { maxPerSecond: number; marginMs: number } } = {}):
  Promise<{ id: string; status: string; created: boolean; leased?: Leased; booking?: Booking }> {
  const params: unknown[] = [o.business_id, o.id ?? null, o.channel_id, o.to_number, o.message_text, o.message_type, o.customer_id, o.reference_type, o.reference_id,
    o.event_type, o.template_name ?? null, JSON.stringify(o.metadata), o.conversation_id ?? null, o.sent_by ?? null, opts.lease ?? false, LEASE_SECONDS];
  const book = opts.lease ? opts.book : undefined;
  if (book) params.push(...bookingParams(book.maxPerSecond, book.marginMs));
  const asked = Date.now();
  const ins = await tx.query<Leased & BookingRow>(book ? RECORD_AND_BOOK : RECORD_OUTBOUND, params);
  const row = ins.rows[0];
  if (row) {
    if (!opts.lease) return { id: row.id, status: 'pending', created: true };
    const { slot_at, retry_in_ms, db_now, ...leased } = row;
    // No booking when the message has no conversation to file it in (the caller books after).
    return { id: row.id, status: 'pending', created: true, leased, ...(book && db_now !== null ? { booking: { row: { slot_at, retry_in_ms, db_now }, asked } } : {}) };
  }
  const existing = (await tx.query<{ id: string; status: string }>(prepared(
    `SELECT id, status FROM social_messages WHERE direction = 'outbound' AND channel_id = $1 AND to_number = $2
       AND event_type = $3 AND reference_id = $4`), [o.channel_id, o.to_number, o.event_type, o.reference_id])).rows[0];
  return { ...existing, created: false };
}

/**
 * Queues a send of a pending message in the open transaction (the outbox: rolled back with it);
 * this process wakes for it on time, the queue's polling covers every other process.
 */
export async function queueSend(tx: Tx, businessId: string, messageId: string, delayMs = 0) {
  const outbox = tx.db.outbox;
  if (!outbox) return; // no queue in this process (a bare test app): the message stays pending
  await outbox.enqueue(tx.handle, SEND_QUEUE, { business_id: businessId, message_id: messageId },
    delayMs ? { startAfter: new Date(Date.now() + delayMs) } : {});
  tx.afterCommit(() => {
    if (delayMs) setTimeout(() => outbox.wake(SEND_QUEUE), delayMs + 20).unref();
    else outbox.wake(SEND_QUEUE);
  });
}

export async function handleEvent(deps: NotifierDeps, job: EventJob): Promise<void> {
  // The message is written, claimed and its slot booked in one transaction (one commit, not two).
  const claimed = await withTenant(deps.db, job.business_id, async (tx) => {
    const ready = await prepare(tx, deps, job);
    return typeof ready === 'string' ? claim(tx, deps, job.business_id, ready) : ready;
  });
  if (claimed) await sendClaimed(deps, job.business_id, claimed);
}

/** A claimed message that did not go: unclaimed (its attempt not counted) and queued again after delayMs. */
async function putBack(tx: Tx, businessId: string, messageId: string, delayMs: number) {
  await tx.query(`UPDATE social_messages SET attempts = attempts - 1, locked_until = NULL WHERE id = $1 AND status = 'pending'`, [messageId]);
  await queueSend(tx, businessId, messageId, delayMs);
}

/**
 * Waits for a booked slot. A sender that wakes late (a busy event loop, a descheduled process, a
 * slow commit) never sends late: a late send bunches up with the ones after it and would crowd a
 * sliding second. It books a new slot instead, twice at most and while its lease leaves time for
 * the send; then it puts the message back in the queue a little later (a process too busy to keep
 * time sheds load). False: the message went back to the queue.
 */
async function waitForSlot(deps: NotifierDeps, businessId: string, messageId: string, channel: { id: string; settings: any }, slotAt: number): Promise<boolean> {
  const mustSendBy = Date.now() + (LEASE_SECONDS * 1000 - DEFAULT_TIMEOUT_MS - 2_000);
  // Half the margin for waking late, half for the way to the provider.
  const lateMs = Math.max(1, deps.config.sendJitterMarginMs / 2);
  for (let rebooks = 0; ; rebooks++) {
    const wait = slotAt - Date.now();
    if (wait >= 1) await new Promise((res) => setTimeout(res, wait));
    if (Date.now() - slotAt <= lateMs) return true;
    const again = await withTenant(deps.db, businessId, async (tx) => {
      const slot = rebooks < 2 ? await bookSlot(tx, businessId, channel.id, maxPerSecondOf(channel), deps.config.sendJitterMarginMs) : undefined;
      if (!slot || 'retryInMs' in slot || slot.slotAt > mustSendBy) {
        await putBack(tx, businessId, messageId, slot && 'retryInMs' in slot ? slot.retryInMs : 100 + Math.random() * 400);
        return undefined;
      }
      return slot;
    });
    if (!again) return false;
    slotAt = again.slotAt;
  }
}

export function backoffMs(attempt: number, baseMs: number, retryAfterMs?: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 5 * 60_000);
  const jittered = exp / 2 + Math.random() * (exp / 2); // "equal jitter": spread out, never zero
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Claims a pending message and books its slot under the channel's rate cap (one transaction),
 * waits for the slot, sends it once, and records what the provider said.
 */
export async function deliver(deps: NotifierDeps, businessId: string, messageId: string): Promise<void> {
  const claimed = await withTenant(deps.db, businessId, (tx) => claim(tx, deps, businessId, messageId));
  if (claimed) await sendClaimed(deps, businessId, claimed);
}

/** A message leased to this sender, its channel, and the slot booked for it (0: send at once or not at all). */
interface Claimed { m: Leased; channel: ChannelWithSecrets | undefined; slotAt: number }

/** Leases a pending message to this sender and books its slot; undefined: not this sender's to send now. */
async function claim(tx: Tx, deps: NotifierDeps, businessId: string, messageId: string): Promise<Claimed | undefined> {
  const m = (await tx.query<Leased>(prepared(
    `UPDATE social_messages SET attempts = attempts + 1, locked_until = now() + make_interval(secs => $2), updated_at = now()
     WHERE id = $1 AND status = 'pending' AND (locked_until IS NULL OR locked_until < now())
     RETURNING id, channel_id, to_number, message_text, metadata, attempts`), [messageId, LEASE_SECONDS])).rows[0];
  if (!m) {
    // Still pending but leased: another sender has it, or had it and died mid-send. Look again
    // when the lease ends, so a message whose sender died is not left behind.
    const held = (await tx.query<{ ms: number }>(
      `SELECT ceil(extract(epoch FROM (locked_until - now())) * 1000)::float8 AS ms FROM social_messages
       WHERE id = $1 AND status = 'pending' AND locked_until >= now()`, [messageId])).rows[0];
    if (held) await queueSend(tx, businessId, messageId, Number(held.ms) + 250);
    return undefined;
  }
  return booked(tx, deps, businessId, m, await loadChannelWithSecrets(tx, deps.config.secretsKey, m.channel_id));
}

/** A booking made by the statement that wrote the message, and when it was asked for (this process's clock). */
interface Booking { row: BookingRow; asked: number }

const maxPerSecondOf = (channel: { settings?: any }) => Number(channel.settings?.max_per_second ?? 80);

/**
 * Whether a send on this channel books its slot in the database: a channel that can send, on
 * PostgreSQL. One process owns a PGlite database: it paces its sends in memory (LocalPace), exactly.
 */
function slotBooked(deps: NotifierDeps, channel: ChannelWithSecrets | undefined): channel is ChannelWithSecrets {
  return !!channel && channel.is_active && channel.status === 'active' && deps.db.kind !== 'pglite';
}

/**
 * A leased message's slot under its channel's rate cap, booked last in the transaction (or
 * already, by the statement that wrote the message: `booking`).
 */
async function booked(tx: Tx, deps: NotifierDeps, businessId: string, m: Leased, channel: ChannelWithSecrets | undefined, booking?: Booking): Promise<Claimed | undefined> {
  if (!slotBooked(deps, channel)) return { m, channel, slotAt: 0 };
  // Last in the transaction: the channel's pace row stays locked only until the commit.
  const slot = booking ? slotOf(booking.row, booking.asked)
    : await bookSlot(tx, businessId, channel.id, maxPerSecondOf(channel), deps.config.sendJitterMarginMs);
  if ('retryInMs' in slot) {
    // The channel is booked further ahead than a lease should wait: back in the queue, unclaimed.
    await putBack(tx, businessId, m.id, slot.retryInMs);
    return undefined;
  }
  return { m, channel, slotAt: slot.slotAt };
}

/** Waits for the claimed message's slot, sends it, and records what the provider said. */
async function sendClaimed(deps: NotifierDeps, businessId: string, claimed: Claimed): Promise<void> {
  const { m, channel, slotAt } = claimed;
  if (!channel || !channel.is_active || channel.status !== 'active') {
    await finish(deps, businessId, m.id, { ok: false, kind: 'permanent', ...whyNotSending(channel) });
    return;
  }
  const cap = maxPerSecondOf(channel);
  if (deps.db.kind === 'pglite') {
    if (!(await localPace.take(channel.id, cap, deps.config.sendJitterMarginMs))) {
      await withTenant(deps.db, businessId, async (tx) => {
        await putBack(tx, businessId, m.id, BOOKING_HORIZON_MS / 2);
      });
      return;
    }
  } else if (!(await waitForSlot(deps, businessId, m.id, channel, slotAt))) return;
  const provider = createProvider(providerNameFor(channel), deps.config, {
    log: (obj, msg) => deps.log.info({ ...obj, business_id: businessId, channel_id: channel.id, message_id: m.id }, msg),
  });
  let result: SendResult;
  try {
    result = await provider.send(channel, { to: m.to_number, text: m.message_text, template: m.metadata?.template });
  } catch (err: any) {
    result = { ok: false, kind: 'transient', code: 'send_error', message: String(err?.message ?? err) };
  }
  // A provider's answer can echo the request URL, and Telegram's URL holds the bot token: what is
  // stored on the message (error_message) and the channel (status_reason) carries no secret.
  if (!result.ok) result = { ...result, message: scrubbedProviderMessage(result.message, [channel.api_key, channel.api_secret, channel.webhook_secret]) };
  await finish(deps, businessId, m.id, result, m.attempts, providerNameFor(channel));
}

/** A provider's failure text without any of the channel's secrets, bounded to 300 characters. */
export function scrubbedProviderMessage(message: string, secrets: (string | null | undefined)[]): string {
  const text = redact(String(message ?? ''), secrets).replace(/\bbot\d+:[\w-]+/g, 'bot[redacted]');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * A sent message: `sent`, with the provider's id, in one round trip (the commonest outcome of every
 * send: one script, not a transaction's four). Delivery statuses that arrived before it was recorded
 * are applied after, in a second transaction (a status arriving in between finds it sent and
 * applies itself; statuses only move forward, so the order does not matter).
 */
async function recordSent(deps: NotifierDeps, businessId: string, messageId: string, providerMessageId: string) {
  const pmid = literal(providerMessageId);
  const [waiting] = await tenantScript<{ channel_id: string }>(deps.db, businessId,
    `WITH sent AS (UPDATE social_messages SET status = 'sent', provider_message_id = ${pmid}, sent_at = now(), locked_until = NULL,
       error_code = NULL, error_message = NULL, updated_at = now()
       WHERE id = ${literal(messageId)} AND status = 'pending' RETURNING channel_id)
     SELECT channel_id FROM sent WHERE EXISTS (SELECT 1 FROM social_pending_statuses p WHERE p.channel_id = sent.channel_id AND p.provider_message_id = ${pmid})`);
  if (waiting) await withTenant(deps.db, businessId, (tx) => applyPendingStatuses(tx, waiting.channel_id, providerMessageId));
}

async function finish(deps: NotifierDeps, businessId: string, messageId: string, result: SendResult, attempts = MAX_ATTEMPTS, provider?: string) {
  if (result.ok) {
    await recordSent(deps, businessId, messageId, result.provider_message_id);
    deps.log.info({ business_id: businessId, message_id: messageId, provider_message_id: result.provider_message_id }, 'notification sent');
    return;
  }
  await withTenant(deps.db, businessId, async (tx) => {
    if (result.kind === 'window') {
      // Outside the 24-hour window: send the mapped approved template instead, if there is one.
      const fell = await tx.query(
        `UPDATE social_messages SET message_type = 'template', template_name = metadata->'fallback_template'->>'name',
           metadata = jsonb_set(metadata, '{template}', metadata->'fallback_template'), locked_until = NULL,
           error_code = $2, error_message = $3, updated_at = now()
         WHERE id = $1 AND status = 'pending' AND metadata ? 'fallback_template' AND NOT metadata ? 'template' RETURNING id`,
        [messageId, result.code, result.message]);
      if (fell.rows[0]) {
        await queueSend(tx, businessId, messageId);
        deps.log.info({ business_id: businessId, message_id: messageId }, 'outside the 24-hour window: sending the approved template');
        return;
      }
    }
    const retry = result.kind === 'transient' && attempts < MAX_ATTEMPTS;
    await tx.query(
      `UPDATE social_messages SET status = $2, error_code = $3, error_message = $4, locked_until = NULL, updated_at = now()
       WHERE id = $1 AND status = 'pending'`, [messageId, retry ? 'pending' : 'failed', result.code, result.message]);
    if (result.kind === 'auth') {
      const m = (await tx.query(`SELECT channel_id FROM social_messages WHERE id = $1`, [messageId])).rows[0];
      await markNeedsAttention(tx, m.channel_id, `The provider refused the credentials (${result.code}: ${result.message}); update the channel's api_key`);
    }
    if (retry) {
      const delay = backoffMs(attempts, deps.config.sendRetryBaseMs, result.retry_after_ms);
      await queueSend(tx, businessId, messageId, delay);
    }
    // The provider's code and its scrubbed, bounded reason (never its response body or URL).
    deps.log.warn({ business_id: businessId, message_id: messageId, provider, code: result.code, kind: result.kind, reason: result.message, retry, attempts }, 'notification not sent');
  });
}
