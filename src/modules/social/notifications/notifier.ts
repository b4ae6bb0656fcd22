// The social listener: turns business events into WhatsApp notifications (SPEC §6).
//
// handleEvent renders the message and writes it `pending` under a unique key (business, channel,
// recipient, event, reference) — so one event yields at most one message however often it is
// delivered — then deliver() claims it with a short lease (so two workers never send it at once),
// waits for a slot under the channel's rate cap, sends, and records the outcome.
import type { Config } from '../../../config.js';
import type { Database } from '../../../platform/db.js';
import type { EventJob, EventType } from '../../../platform/events.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import type { Queue } from '../../../platform/queue.js';
import { loadChannelWithSecrets, markNeedsAttention, whyNotSending } from '../channels/channels.service.js';
import { templateBody } from '../templates/templates.service.js';
import { formatMoney, pickLocale, renderTemplate, type TemplateEvent } from '../templates/templates.js';
import { createProvider, providerNameFor, type SendResult } from '../providers/provider.js';
import { redact } from '../providers/http.js';
import { applyPendingStatuses } from './statuses.js';
import { noteMessage } from '../conversations/conversations.repo.js';
import { notificationDestination } from './destination.js';

export const SEND_QUEUE = 'social.send';
export const MAX_ATTEMPTS = 8;
const LEASE_SECONDS = 60;
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

/** Renders and stores the message for one event; returns the message id to send, if any. */
async function prepare(tx: Tx, deps: NotifierDeps, job: EventJob): Promise<string | undefined> {
  const ev = (await tx.query(`SELECT type, payload FROM events WHERE id = $1`, [job.event_id])).rows[0];
  if (!ev) return undefined;
  const type = ev.type as EventType;
  const p = ev.payload;
  const ref = referenceOf(type, p);
  if (!ref || !p.customer_id) return undefined;
  const skip = (reason: string) => { deps.log.info({ event_id: job.event_id, type, reason }, 'notification skipped'); return undefined; };

  const customer = (await tx.query(`SELECT id, name, mobile, locale, whatsapp_opt_in FROM customers WHERE id = $1`, [p.customer_id])).rows[0];
  if (!customer) return skip('no such customer');
  if (!customer.whatsapp_opt_in) return skip('customer opted out');
  const dest = await notificationDestination(tx, job.business_id, customer);
  if ('skip' in dest) return skip(dest.skip);
  const { channel } = dest;
  const channelId = channel.id;
  const on = channel.settings?.notifications?.[type] ?? !DEFAULT_OFF.has(type);
  if (!on) return skip('switched off for this channel');

  const business = (await tx.query(`SELECT name, currency, locale FROM businesses WHERE id = app_business_id()`)).rows[0];
  const locale = pickLocale(customer.locale, business.locale);
  const money = (v: string | undefined) => (v === undefined ? undefined : formatMoney(v, business.currency, business.locale));
  const vars: Record<string, string | undefined> = {
    customerName: customer.name,
    businessName: business.name,
    invoiceNo: p.invoice_no,
    total: money(p.total),
    orderNo: p.order_no,
    amount: money(p.amount),
    balance: money(p.balance),
    stepName: p.step_name,
  };
  if (!vars.invoiceNo && p.sale_id) vars.invoiceNo = (await tx.query(`SELECT invoice_no FROM sales WHERE id = $1`, [p.sale_id])).rows[0]?.invoice_no;
  const text = renderTemplate(await templateBody(tx, type as TemplateEvent, locale), vars);
  // WhatsApp's customer-service window: within 24 hours of the customer's last message any text may
  // be sent; outside it only an approved template. A mapped template is used outside the window
  // (and kept in metadata, so a text refused with 131047 can fall back to it).
  const mapped = channel.channel_type === 'whatsapp' ? channel.settings?.templates?.[type] : undefined;
  const mappedTemplate = mapped ? { name: mapped.name, language: mapped.language, params: (mapped.params ?? []).map((v: string) => vars[v] ?? '') } : null;
  const inWindow = dest.in_window;
  const template = inWindow ? null : mappedTemplate;

  const stored = await recordOutbound(tx, {
    business_id: job.business_id, channel_id: channelId, conversation_id: dest.conversation_id, to_number: dest.to, message_text: text,
    message_type: template ? 'template' : 'text', customer_id: customer.id, reference_type: ref[0], reference_id: ref[1],
    event_type: type, template_name: template?.name ?? null,
    metadata: {
      event_id: job.event_id, locale, in_window: inWindow, route: { reason: dest.reason, channel_type: channel.channel_type },
      ...(template ? { template } : {}), ...(mappedTemplate ? { fallback_template: mappedTemplate } : {}),
    },
  });
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

/**
 * Writes an outbound message `pending`, once per (channel, recipient, event, reference): the unique
 * key decides, so a second writer gets the existing row back (with its status) instead of a copy.
 */
export async function recordOutbound(tx: Tx, o: OutboundRecord): Promise<{ id: string; status: string; created: boolean }> {
  const ins = await tx.query<{ id: string }>(
    `INSERT INTO social_messages (business_id, id, channel_id, direction, status, to_number, message_text, message_type,
       customer_id, reference_type, reference_id, event_type, template_name, metadata, conversation_id, sent_by)
     VALUES ($1, coalesce($2::uuid, gen_random_uuid()), $3, 'outbound', 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (business_id, channel_id, to_number, event_type, reference_id) WHERE direction = 'outbound' DO NOTHING
     RETURNING id`,
    [o.business_id, o.id ?? null, o.channel_id, o.to_number, o.message_text, o.message_type, o.customer_id, o.reference_type, o.reference_id,
      o.event_type, o.template_name ?? null, JSON.stringify(o.metadata), o.conversation_id ?? null, o.sent_by ?? null]);
  if (ins.rows[0]) {
    if (o.conversation_id) await noteMessage(tx, o.conversation_id, ins.rows[0].id);
    return { id: ins.rows[0].id, status: 'pending', created: true };
  }
  const existing = (await tx.query<{ id: string; status: string }>(
    `SELECT id, status FROM social_messages WHERE direction = 'outbound' AND channel_id = $1 AND to_number = $2
       AND event_type = $3 AND reference_id = $4`, [o.channel_id, o.to_number, o.event_type, o.reference_id])).rows[0];
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
  const messageId = await withTenant(deps.db, job.business_id, (tx) => prepare(tx, deps, job));
  if (messageId) await deliver(deps, job.business_id, messageId);
}

/** Waits for a send slot under the channel's per-second cap, shared by every worker process. */
async function takeSlot(deps: NotifierDeps, businessId: string, channelId: string, maxPerSecond: number): Promise<number> {
  for (;;) {
    const r = await withTenant(deps.db, businessId, async (tx) => {
      const slot = await tx.query<{ second: number; sent: number; ms: number }>(
        `INSERT INTO channel_send_slots AS s (business_id, channel_id, second, sent)
         VALUES ($1, $2, floor(extract(epoch FROM clock_timestamp()))::bigint, 1)
         ON CONFLICT (business_id, channel_id, second) DO UPDATE SET sent = s.sent + 1
         RETURNING second, sent, (extract(milliseconds FROM clock_timestamp())::int % 1000) AS ms`,
        [businessId, channelId]);
      const row = slot.rows[0];
      if (row.sent === 1) {
        await tx.query(`DELETE FROM channel_send_slots WHERE channel_id = $1 AND second < $2`, [channelId, row.second - 5]);
      }
      return row;
    });
    if (r.sent <= maxPerSecond) return r.second;
    await new Promise((res) => setTimeout(res, Math.max(5, 1000 - r.ms)));
  }
}

export function backoffMs(attempt: number, baseMs: number, retryAfterMs?: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 5 * 60_000);
  const jittered = exp / 2 + Math.random() * (exp / 2); // "equal jitter": spread out, never zero
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Claims a pending message, sends it once, and records what the provider said. */
export async function deliver(deps: NotifierDeps, businessId: string, messageId: string): Promise<void> {
  const claimed = await withTenant(deps.db, businessId, async (tx) => {
    const m = (await tx.query(
      `UPDATE social_messages SET attempts = attempts + 1, locked_until = now() + make_interval(secs => $2), updated_at = now()
       WHERE id = $1 AND status = 'pending' AND (locked_until IS NULL OR locked_until < now())
       RETURNING id, channel_id, to_number, message_text, metadata, attempts`, [messageId, LEASE_SECONDS])).rows[0];
    if (!m) return undefined;
    const channel = await loadChannelWithSecrets(tx, deps.config.secretsKey, m.channel_id);
    return { m, channel };
  });
  if (!claimed) return;
  const { m, channel } = claimed;
  if (!channel || !channel.is_active || channel.status !== 'active') {
    await finish(deps, businessId, m.id, { ok: false, kind: 'permanent', ...whyNotSending(channel) });
    return;
  }
  const slot = await takeSlot(deps, businessId, channel.id, channel.settings?.max_per_second ?? 80);
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
  await finish(deps, businessId, m.id, result, m.attempts, slot, providerNameFor(channel));
}

/** A provider's failure text without any of the channel's secrets, bounded to 300 characters. */
export function scrubbedProviderMessage(message: string, secrets: (string | null | undefined)[]): string {
  const text = redact(String(message ?? ''), secrets).replace(/\bbot\d+:[\w-]+/g, 'bot[redacted]');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

async function finish(deps: NotifierDeps, businessId: string, messageId: string, result: SendResult, attempts = MAX_ATTEMPTS, slot?: number, provider?: string) {
  await withTenant(deps.db, businessId, async (tx) => {
    if (result.ok) {
      // send_slot: the rate-cap second this send was counted in (what the cap is audited by).
      const r = await tx.query(
        `UPDATE social_messages SET status = 'sent', provider_message_id = $2, sent_at = now(), locked_until = NULL,
           error_code = NULL, error_message = NULL, updated_at = now(), metadata = metadata || jsonb_build_object('send_slot', $3::bigint)
         WHERE id = $1 AND status = 'pending' RETURNING channel_id`, [messageId, result.provider_message_id, slot ?? null]);
      if (r.rows[0]) await applyPendingStatuses(tx, r.rows[0].channel_id, result.provider_message_id);
      deps.log.info({ business_id: businessId, message_id: messageId, provider_message_id: result.provider_message_id }, 'notification sent');
      return;
    }
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
