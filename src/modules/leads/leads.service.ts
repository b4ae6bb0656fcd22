// Leads: people who showed order intent on a channel. One open lead per sender; staff work it
// (contacted, qualified, lost) or convert it, which makes (or links) the customer.
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { toE164 } from '../../platform/phone.js';
import { withTenant } from '../../platform/tenancy.js';
import { businessCountry } from '../customers/customers.service.js';
import type { Ctx } from '../context.js';
import { linkConversation } from '../social/conversations/conversations.repo.js';

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'converted', 'lost'] as const;
const COLS = `l.id, l.name, l.mobile, l.email, l.source, l.status, l.customer_id, l.sale_id, l.channel_id, l.notes, l.metadata,
  l.created_at, l.updated_at`;

export async function listLeads(ctx: Ctx, q: { limit?: number; cursor?: string; status?: string; source?: string }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'l', 4);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(
      `SELECT ${COLS}, l.created_at::text AS cursor_ts FROM leads l
       WHERE ($2::text IS NULL OR l.status = $2) AND ($3::text IS NULL OR l.source = $3) ${c.sql}
       ORDER BY l.created_at DESC, l.id DESC LIMIT $1`, [limit + 1, q.status ?? null, q.source ?? null, ...c.params]);
    return page(r.rows as any[], limit);
  });
}

export async function getLead(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${COLS} FROM leads l WHERE l.id = $1`, [id]);
    if (!r.rows[0]) throw notFound('Lead');
    return r.rows[0];
  });
}

export async function updateLead(ctx: Ctx, id: string, input: { status?: string; notes?: string | null; name?: string | null; email?: string | null }) {
  if (input.status === 'converted') throw badRequest('Convert a lead with POST /leads/:id/convert', [{ field: 'status', message: 'use the convert action' }]);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const cur = (await tx.query(`SELECT status FROM leads WHERE id = $1 FOR UPDATE`, [id])).rows[0];
    if (!cur) throw notFound('Lead');
    if (cur.status === 'converted' && input.status) throw conflict('This lead is already converted', 'lead_converted');
    const has = (k: string) => (input as any)[k] !== undefined;
    try {
      const r = await tx.query(
        `UPDATE leads l SET status = coalesce($2, l.status),
           notes = CASE WHEN $3 THEN $4 ELSE l.notes END,
           name = CASE WHEN $5 THEN $6 ELSE l.name END,
           email = CASE WHEN $7 THEN $8 ELSE l.email END,
           updated_at = now()
         WHERE l.id = $1 RETURNING ${COLS}`,
        [id, input.status ?? null, has('notes'), input.notes ?? null, has('name'), input.name ?? null, has('email'), input.email ?? null]);
      return r.rows[0];
    } catch (err: any) {
      // Re-opening a lead while the sender already has another open one.
      if (err?.code === '23505') throw conflict('This sender already has an open lead', 'lead_open_exists');
      throw err;
    }
  });
}

/** Makes the lead's customer (or links the existing one with the same mobile) and marks it converted. */
export async function convertLead(ctx: Ctx, id: string, input: { name?: string; mobile?: string; email?: string }) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const lead = (await tx.query(`SELECT * FROM leads WHERE id = $1 FOR UPDATE`, [id])).rows[0];
    if (!lead) throw notFound('Lead');
    if (lead.customer_id && lead.status === 'converted') throw conflict('This lead is already converted', 'lead_converted');
    const rawMobile = input.mobile ?? lead.mobile;
    if (!rawMobile) throw badRequest('This lead has no mobile number; give one', [{ field: 'mobile', message: 'is required for this lead' }]);
    const mobile = toE164(rawMobile, await businessCountry(tx));
    if (!mobile) throw badRequest('Invalid mobile number', [{ field: 'mobile', message: 'is not a valid phone number' }]);
    const name = input.name ?? lead.name ?? mobile;
    let customer = (await tx.query(`SELECT id, name, mobile, email, locale, whatsapp_opt_in, created_at FROM customers WHERE mobile = $1`, [mobile])).rows[0];
    if (!customer) {
      customer = (await tx.query(
        `INSERT INTO customers (business_id, name, mobile, email) VALUES ($1, $2, $3, $4)
         RETURNING id, name, mobile, email, locale, whatsapp_opt_in, created_at`,
        [ctx.principal.businessId, name, mobile, input.email ?? lead.email ?? null])).rows[0];
    }
    // Messages from this sender now belong to the customer, and so do the lead's conversations:
    // the channel they wrote on becomes one of the customer's contacts.
    await tx.query(`UPDATE social_messages SET customer_id = $1 WHERE direction = 'inbound' AND customer_id IS NULL
      AND (from_number = $2 OR from_user_id = $3)`, [customer.id, mobile, lead.sender_key]);
    const conversations = await tx.query<{ id: string }>(
      `SELECT id FROM conversations WHERE lead_id = $1 OR (channel_id = $2 AND address = $3)`, [id, lead.channel_id, lead.sender_key]);
    for (const c of conversations.rows) await linkConversation(tx, c.id, customer.id);
    const r = await tx.query(
      `UPDATE leads l SET status = 'converted', customer_id = $2, updated_at = now() WHERE l.id = $1 RETURNING ${COLS}`, [id, customer.id]);
    return { lead: r.rows[0], customer };
  });
}
