// The audit trail: who changed a channel, a template, a user, a product, or cancelled a sale, and
// when. Each entry is written by the service that makes the change, inside its transaction, so a
// refused or rolled-back change leaves no entry and a committed one always has its entry. Entries
// read as sentences for the shop owner; `changes` holds {field: [before, after]}, never a secret.
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { withTenant, type Tx } from '../../platform/tenancy.js';
import { formatMoney } from '../social/templates/templates.js';
import type { Ctx } from '../context.js';

export const AUDIT_ENTITY_TYPES = ['channel', 'template', 'user', 'product', 'sale'] as const;
export type AuditEntityType = (typeof AUDIT_ENTITY_TYPES)[number];

export interface AuditEntry {
  /** What happened, as a stable name: `product.price_changed`, `channel.deactivated`, … */
  action: string;
  entity_type: AuditEntityType;
  entity_id: string;
  /** The sentence after the person's name: "changed the price of Chocolate cake from ₹650.00 to ₹700.00". */
  summary: string;
  /** {field: [before, after]}; a secret appears only as whether it is set, never its value. */
  changes?: Record<string, [unknown, unknown]>;
}

/** Who made the change: the signed-in user, or the business's first user while it is registered. */
export type Actor = Pick<Ctx, 'principal'>;

/**
 * Writes one entry in the caller's transaction. The person's name is read now and kept, so the
 * entry says who it was even after a rename.
 */
export async function recordAudit(tx: Tx, actor: Actor, e: AuditEntry): Promise<void> {
  const { userId, businessId } = actor.principal;
  await tx.query(
    `INSERT INTO audit_log (business_id, user_id, user_name, action, entity_type, entity_id, summary, changes)
     SELECT $1, $2, u.name, $3, $4, $5, coalesce(u.name, 'Someone') || ' ' || $6, $7
     FROM (SELECT 1) one LEFT JOIN users u ON u.id = $2`,
    [businessId, userId, e.action, e.entity_type, e.entity_id, e.summary, JSON.stringify(e.changes ?? {})]);
}

/** Money in the business's currency and locale, for summaries ("₹700.00"). */
export async function moneyFormatter(tx: Tx): Promise<(amount: string) => string> {
  const r = await tx.query<{ currency: string; locale: string }>(`SELECT currency, locale FROM businesses WHERE id = app_business_id()`);
  const { currency, locale } = r.rows[0] ?? { currency: 'INR', locale: 'en-IN' };
  return (amount) => formatMoney(amount, currency, locale);
}

/** The fields whose values differ, as {field: [before, after]}. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>, fields: string[]): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const f of fields) {
    if (after[f] === undefined) continue;
    if (JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null)) out[f] = [before[f] ?? null, after[f] ?? null];
  }
  return out;
}

export interface AuditQuery {
  limit?: number;
  cursor?: string;
  entity_type?: AuditEntityType;
  entity_id?: string;
  user_id?: string;
}

export async function listAudit(ctx: Ctx, q: AuditQuery) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'a', 5);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT a.id, a.created_at, a.user_id, a.user_name, a.action, a.entity_type, a.entity_id, a.summary, a.changes,
              a.created_at::text AS cursor_ts
       FROM audit_log a
       WHERE ($2::text IS NULL OR a.entity_type = $2) AND ($3::text IS NULL OR a.entity_id = $3)
         AND ($4::uuid IS NULL OR a.user_id = $4) ${c.sql}
       ORDER BY a.created_at DESC, a.id DESC LIMIT $1`,
      [limit + 1, q.entity_type ?? null, q.entity_id ?? null, q.user_id ?? null, ...c.params]);
    return page(r.rows, limit);
  });
}
