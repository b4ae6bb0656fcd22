// Conversations: the shop counter on every channel. Each message belongs to one conversation per
// (channel, counterpart); the counterpart is a customer, a lead, or just an address until then.
// Staff read them (newest activity first, unread, needs_reply), answer through the same durable
// path as notifications, and link a conversation to a customer, which makes it one of that
// customer's contacts (notifications may then go there).
import { randomUUID } from 'node:crypto';
import { AppError, badRequest, conflict, notFound } from '../../../platform/errors.js';
import { cursorClause, decodeCursor, page } from '../../../platform/pagination.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import type { Ctx } from '../../context.js';
import { queueSend, recordOutbound } from '../notifications/notifier.js';
import { isTemplateVariable } from '../templates/templates.js';
import type { ChannelType } from '../providers/provider.js';
import { replyWindow, textLength, textLimit } from './window.js';
import { linkConversation } from './conversations.repo.js';

// ---- reading ----

const VIEW_COLS = `v.id, v.channel_id, ch.channel_type, ch.settings AS channel_settings, v.address,
  coalesce(cu.name, l.name, v.name) AS name,
  coalesce(cu.mobile, l.mobile, CASE WHEN ch.channel_type = 'whatsapp' AND v.address LIKE '+%' THEN v.address END) AS mobile,
  v.customer_id, v.lead_id, v.unread, v.last_message_at, v.last_inbound_at, v.last_human_reply_at,
  (v.last_inbound_at IS NOT NULL AND (v.last_human_reply_at IS NULL OR v.last_inbound_at > v.last_human_reply_at)) AS needs_reply,
  lm.id AS lm_id, lm.direction AS lm_direction, lm.message_text AS lm_text, lm.message_type AS lm_type, lm.status AS lm_status,
  lm.created_at AS lm_created_at, lm.deleted_at AS lm_deleted_at, v.created_at`;
const VIEW_FROM = `conversations v JOIN social_channels ch ON ch.id = v.channel_id
  LEFT JOIN customers cu ON cu.id = v.customer_id LEFT JOIN leads l ON l.id = v.lead_id
  LEFT JOIN social_messages lm ON lm.id = v.last_message_id`;

function view(r: any) {
  const templates = Object.entries<any>(r.channel_settings?.templates ?? {}).map(([event, t]) => ({
    event, name: t.name, language: t.language, params: t.params ?? [],
  }));
  return {
    id: r.id, channel_id: r.channel_id, channel_type: r.channel_type, address: r.address, name: r.name, mobile: r.mobile,
    customer_id: r.customer_id, lead_id: r.lead_id,
    last_message: r.lm_id ? {
      id: r.lm_id, direction: r.lm_direction, message_text: r.lm_deleted_at ? null : r.lm_text, message_type: r.lm_type,
      status: r.lm_status, created_at: r.lm_created_at, deleted: Boolean(r.lm_deleted_at),
    } : null,
    last_message_at: r.last_message_at, last_inbound_at: r.last_inbound_at, last_human_reply_at: r.last_human_reply_at,
    unread: r.unread, needs_reply: r.needs_reply,
    window: replyWindow(r.channel_type, r.last_inbound_at),
    templates,
    created_at: r.created_at,
  };
}

export interface ConversationFilters { limit?: number; cursor?: string; needs_reply?: boolean; channel_id?: string; customer_id?: string; q?: string }

export async function listConversations(ctx: Ctx, f: ConversationFilters) {
  const limit = f.limit ?? 50;
  const c = cursorClause(decodeCursor(f.cursor), 'v', 7, 'last_message_at');
  // q matches a name or a number: "98765" finds +919876543210; LIKE wildcards in q are literal.
  const q = f.q?.trim() ? `%${f.q.trim().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
  const digits = f.q?.replace(/\D/g, '') ?? '';
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(
      `SELECT ${VIEW_COLS}, v.last_message_at::text AS cursor_ts FROM ${VIEW_FROM}
       WHERE ($2::boolean IS NULL OR (v.last_inbound_at IS NOT NULL AND (v.last_human_reply_at IS NULL OR v.last_inbound_at > v.last_human_reply_at)) = $2)
         AND ($3::uuid IS NULL OR v.channel_id = $3) AND ($4::uuid IS NULL OR v.customer_id = $4)
         AND ($5::text IS NULL OR coalesce(cu.name, l.name, v.name, '') ILIKE $5 OR v.address ILIKE $5 OR coalesce(cu.mobile, l.mobile, '') ILIKE $5
              OR (length($6::text) >= 3 AND (regexp_replace(v.address, '\\D', '', 'g') LIKE '%' || $6 || '%'
                  OR regexp_replace(coalesce(cu.mobile, l.mobile, ''), '\\D', '', 'g') LIKE '%' || $6 || '%')))
         AND v.last_message_at IS NOT NULL ${c.sql}
       ORDER BY v.last_message_at DESC, v.id DESC LIMIT $1`,
      [limit + 1, f.needs_reply ?? null, f.channel_id ?? null, f.customer_id ?? null, q, digits, ...c.params]);
    const p = page(r.rows as any[], limit);
    return { data: p.data.map(view), next_cursor: p.next_cursor };
  });
}

async function loadConversation(tx: Tx, id: string, lock = false) {
  const r = await tx.query(`SELECT ${VIEW_COLS} FROM ${VIEW_FROM} WHERE v.id = $1 ${lock ? 'FOR UPDATE OF v' : ''}`, [id]);
  if (!r.rows[0]) throw notFound('Conversation');
  return r.rows[0];
}

export async function getConversation(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => view(await loadConversation(tx, id)));
}

export const MESSAGE_COLS = `m.id, m.channel_id, m.conversation_id, m.direction, m.status, m.from_number, m.to_number,
  CASE WHEN m.deleted_at IS NULL THEN m.message_text END AS message_text, m.message_type,
  m.customer_id, m.reference_type, m.reference_id, m.event_type, m.template_name, m.provider_message_id, m.error_code, m.error_message,
  m.attempts, m.metadata, m.created_at, m.sent_at, m.delivered_at, m.read_at,
  (m.direction = 'outbound' AND m.sent_by IS NULL) AS automatic,
  CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'name', u.name) END AS sent_by,
  m.deleted_at IS NOT NULL AS deleted, m.edited_at IS NOT NULL AS edited`;
export const MESSAGE_FROM = `social_messages m LEFT JOIN users u ON u.id = m.sent_by`;

/** The newest `limit` messages, oldest first (a chat reads downwards); next_cursor pages back in time. */
export async function conversationMessages(ctx: Ctx, id: string, q: { limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'm', 3);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const exists = await tx.query(`SELECT 1 FROM conversations WHERE id = $1`, [id]);
    if (!exists.rows[0]) throw notFound('Conversation');
    const r = await tx.query(
      `SELECT ${MESSAGE_COLS}, m.created_at::text AS cursor_ts FROM ${MESSAGE_FROM}
       WHERE m.conversation_id = $2 ${c.sql} ORDER BY m.created_at DESC, m.id DESC LIMIT $1`, [limit + 1, id, ...c.params]);
    const p = page(r.rows as any[], limit);
    return { data: p.data.reverse(), next_cursor: p.next_cursor };
  });
}

export async function markRead(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`UPDATE conversations SET unread = 0, updated_at = now() WHERE id = $1 RETURNING id`, [id]);
    if (!r.rows[0]) throw notFound('Conversation');
    return view(await loadConversation(tx, id));
  });
}

export async function linkToCustomer(ctx: Ctx, id: string, customerId: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    await loadConversation(tx, id, true);
    const customer = await tx.query(`SELECT 1 FROM customers WHERE id = $1`, [customerId]);
    if (!customer.rows[0]) throw notFound('Customer');
    await linkConversation(tx, id, customerId);
    return view(await loadConversation(tx, id));
  });
}

// ---- replying ----

export interface ReplyInput { text?: string; template?: string; params?: Record<string, string> }

/**
 * A reply written by staff: checked against the channel's state, its provider's text limit and
 * its reply window, then written `pending` and queued in the same transaction, like a notification.
 */
export async function reply(ctx: Ctx, id: string, input: ReplyInput) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const v = await loadConversation(tx, id, true);
    const ch = (await tx.query(`SELECT id, channel_type, is_active, status, status_reason, settings FROM social_channels WHERE id = $1`, [v.channel_id])).rows[0];
    if (!ch.is_active) throw conflict('This conversation\'s channel is switched off; turn it on in the channel settings to reply', 'channel_inactive');
    if (ch.status !== 'active') {
      throw conflict(`This conversation's channel cannot send (${ch.status.replace('_', ' ')}${ch.status_reason ? `: ${ch.status_reason}` : ''})`, `channel_${ch.status}`);
    }
    const window = replyWindow(ch.channel_type as ChannelType, v.last_inbound_at);
    const messageId = randomUUID();
    let text: string;
    let template: { name: string; language: string; params: string[] } | undefined;

    if (input.params !== undefined && input.template === undefined) {
      throw badRequest('Parameters go with a template', [{ field: 'params', message: 'is only allowed with template' }]);
    }
    if (input.template !== undefined) {
      if (ch.channel_type !== 'whatsapp') {
        throw badRequest('Approved templates are a WhatsApp feature', [{ field: 'template', message: `is not available on ${ch.channel_type}` }]);
      }
      const mapped = Object.entries<any>(ch.settings?.templates ?? {}).find(([event, t]) => event === input.template || t?.name === input.template);
      if (!mapped) {
        throw badRequest('No such approved template on this channel', [{
          field: 'template', message: 'must name an approved template mapped in the channel\'s settings.templates (by its name or event)',
        }]);
      }
      const t = mapped[1];
      const business = (await tx.query(`SELECT name FROM businesses WHERE id = app_business_id()`)).rows[0];
      const defaults: Record<string, string | undefined> = { customerName: v.name ?? undefined, businessName: business.name };
      const names: string[] = t.params ?? [];
      const unknown = Object.keys(input.params ?? {}).filter((k) => !isTemplateVariable(k));
      if (unknown.length) throw badRequest('Unknown template parameters', unknown.map((k) => ({ field: `params.${k}`, message: 'is not a template variable' })));
      const values = names.map((n) => input.params?.[n] ?? defaults[n]);
      const missing = names.filter((_n, i) => !values[i]);
      if (missing.length) throw badRequest('Template parameters missing', missing.map((n) => ({ field: `params.${n}`, message: 'is required by this template' })));
      template = { name: t.name, language: t.language, params: values as string[] };
      text = input.text?.trim() || `[${t.name}] ${values.join(' · ')}`.trim();
    } else {
      text = (input.text ?? '').trim();
      if (!text) throw badRequest('A reply needs text', [{ field: 'text', message: 'must not be empty' }]);
      const max = textLimit(ch);
      if (textLength(text) > max) throw badRequest('The reply is too long for this channel', [{ field: 'text', message: `must be at most ${max} characters on ${ch.channel_type}` }]);
      if (!window.open) {
        const detail = window.closes_at
          ? `The 24-hour reply window closed at ${window.closes_at} (24 hours after the customer's last message); only an approved template may be sent now`
          : 'The customer has not written on this channel, so the 24-hour reply window is not open; only an approved template may be sent';
        throw new AppError(409, 'window_closed', detail, undefined, { closed_at: window.closes_at, rule: window.rule });
      }
    }

    const stored = await recordOutbound(tx, {
      id: messageId, business_id: ctx.principal.businessId, channel_id: ch.id, conversation_id: id, to_number: v.address,
      message_text: text, message_type: template ? 'template' : 'text', customer_id: v.customer_id,
      reference_type: 'reply', reference_id: messageId, event_type: 'reply', template_name: template?.name ?? null, sent_by: ctx.principal.userId,
      metadata: { ...(template ? { template } : {}), in_window: window.open },
    });
    // A person answered: the conversation no longer waits for a reply, and they have read it.
    await tx.query(`UPDATE conversations SET last_human_reply_at = now(), unread = 0, updated_at = now() WHERE id = $1`, [id]);
    await queueSend(tx, ctx.principal.businessId, stored.id);
    const r = await tx.query(`SELECT ${MESSAGE_COLS} FROM ${MESSAGE_FROM} WHERE m.id = $1`, [stored.id]);
    return r.rows[0];
  });
}
