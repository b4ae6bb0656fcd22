// Customers: one per mobile number in a business, the number kept in E.164 so WhatsApp senders
// (wa_id) find their customer.
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { toE164 } from '../../platform/phone.js';
import { withTenant, type Tx } from '../../platform/tenancy.js';
import type { Ctx } from '../context.js';

const COLS = 'c.id, c.name, c.mobile, c.email, c.locale, c.whatsapp_opt_in, c.created_at';

export interface CustomerInput {
  name?: string; mobile?: string; email?: string | null; locale?: string | null; whatsapp_opt_in?: boolean;
}

export async function businessCountry(tx: Tx): Promise<string> {
  const r = await tx.query<{ country: string }>(`SELECT country FROM businesses WHERE id = app_business_id()`);
  return r.rows[0]?.country ?? 'IN';
}

async function parseMobile(tx: Tx, mobile: string): Promise<string> {
  const e164 = toE164(mobile, await businessCountry(tx));
  if (!e164) throw badRequest('Invalid mobile number', [{ field: 'mobile', message: 'is not a valid phone number' }]);
  return e164;
}

const taken = (mobile: string) => conflict(`A customer with mobile ${mobile} already exists`, 'mobile_taken');

export async function createCustomer(ctx: Ctx, input: CustomerInput & { name: string; mobile: string }) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const mobile = await parseMobile(tx, input.mobile);
    const r = await tx.query(
      `INSERT INTO customers AS c (business_id, name, mobile, email, locale, whatsapp_opt_in)
       VALUES ($1, $2, $3, $4, $5, coalesce($6, true))
       ON CONFLICT (business_id, mobile) DO NOTHING RETURNING ${COLS}`,
      [ctx.principal.businessId, input.name.trim(), mobile, input.email ?? null, input.locale ?? null, input.whatsapp_opt_in ?? null],
    );
    if (!r.rows[0]) throw taken(mobile);
    return r.rows[0];
  });
}

export async function listCustomers(ctx: Ctx, q: { limit?: number; cursor?: string; mobile?: string; q?: string }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'c', 4);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const mobile = q.mobile ? toE164(q.mobile, await businessCountry(tx)) ?? q.mobile : null;
    const r = await tx.query<any>(
      `SELECT ${COLS}, c.created_at::text AS cursor_ts FROM customers c
       WHERE ($2::text IS NULL OR c.mobile = $2) AND ($3::text IS NULL OR c.name ILIKE '%' || $3 || '%') ${c.sql}
       ORDER BY c.created_at DESC, c.id DESC LIMIT $1`,
      [limit + 1, mobile, q.q ?? null, ...c.params],
    );
    return page(r.rows, limit);
  });
}

export async function getCustomer(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${COLS} FROM customers c WHERE c.id = $1`, [id]);
    if (!r.rows[0]) throw notFound('Customer');
    return r.rows[0];
  });
}

export async function updateCustomer(ctx: Ctx, id: string, input: CustomerInput) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const mobile = input.mobile !== undefined ? await parseMobile(tx, input.mobile) : null;
    const clash = mobile
      ? await tx.query(`SELECT 1 FROM customers WHERE mobile = $1 AND id <> $2`, [mobile, id])
      : { rows: [] };
    if (clash.rows.length) throw taken(mobile!);
    const has = (k: keyof CustomerInput) => input[k] !== undefined;
    const r = await tx.query(
      `UPDATE customers c SET
         name = CASE WHEN $2 THEN $3 ELSE c.name END,
         mobile = coalesce($4, c.mobile),
         email = CASE WHEN $5 THEN $6 ELSE c.email END,
         locale = CASE WHEN $7 THEN $8 ELSE c.locale END,
         whatsapp_opt_in = coalesce($9, c.whatsapp_opt_in),
         updated_at = now()
       WHERE c.id = $1 RETURNING ${COLS}`,
      [id, has('name'), input.name?.trim() ?? null, mobile, has('email'), input.email ?? null, has('locale'), input.locale ?? null,
        input.whatsapp_opt_in ?? null],
    );
    if (!r.rows[0]) throw notFound('Customer');
    return r.rows[0];
  });
}
