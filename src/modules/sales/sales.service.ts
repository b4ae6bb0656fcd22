// Sales: drafts, finalizing (gapless invoice numbers, Phase A production order in the same
// transaction) and the sale as the customer's account: total, paid, balance.
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import { recordEvent } from '../../platform/events.js';
import { toMoney } from '../../platform/money.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { withTenant, type Tx } from '../../platform/tenancy.js';
import { nextNumber } from '../../platform/numbering.js';
import { createProductionOrderForSale } from '../production/index.js';
import type { Ctx } from '../context.js';

export interface SaleItemInput { product_id: string; quantity: number; unit_price?: string | number }
export interface SaleInput { customer_id: string; items: SaleItemInput[]; notes?: string; source?: string }

const SALE_COLS = `s.id, s.customer_id, c.name AS customer_name, s.status, s.invoice_no, s.total, s.amount_paid,
  (s.total - s.amount_paid)::numeric(12,2) AS balance,
  CASE WHEN s.amount_paid >= s.total THEN 'paid' WHEN s.amount_paid > 0 THEN 'partial' ELSE 'unpaid' END AS payment_status,
  s.source, s.notes, po.id AS production_order_id, s.created_at, s.finalized_at`;
const SALE_FROM = `sales s JOIN customers c ON c.id = s.customer_id AND c.business_id = s.business_id
  LEFT JOIN production_orders po ON po.sale_id = s.id AND po.business_id = s.business_id`;

const QTY_RE = /^\d{1,7}(\.\d{1,3})?$/;

async function attachItems(tx: Tx, sales: any[]) {
  if (!sales.length) return sales;
  const r = await tx.query<any>(
    `SELECT i.sale_id, i.id, i.product_id, p.name AS product_name, i.quantity::float8 AS quantity, i.unit_price, i.line_total
     FROM sale_items i JOIN products p ON p.id = i.product_id AND p.business_id = i.business_id
     WHERE i.sale_id = ANY($1::uuid[]) ORDER BY i.sale_id, i.position`,
    [sales.map((s) => s.id)],
  );
  const bySale = new Map<string, any[]>();
  for (const { sale_id, ...item } of r.rows) {
    if (!bySale.has(sale_id)) bySale.set(sale_id, []);
    bySale.get(sale_id)!.push(item);
  }
  return sales.map((s) => ({ ...s, items: bySale.get(s.id) ?? [] }));
}

export async function loadSale(tx: Tx, id: string) {
  const r = await tx.query<any>(`SELECT ${SALE_COLS} FROM ${SALE_FROM} WHERE s.id = $1`, [id]);
  if (!r.rows[0]) throw notFound('Sale');
  return (await attachItems(tx, r.rows))[0];
}

/** Creates a draft sale in an open transaction: used by the API and by conversational ordering. */
export async function insertDraftSale(tx: Tx, businessId: string, userId: string | null, input: SaleInput) {
  const items = input.items.map((it, i) => {
    const q = String(it.quantity);
    if (!QTY_RE.test(q) || Number(q) <= 0) {
      throw badRequest('Invalid quantity', [{ field: `items[${i}].quantity`, message: 'must be more than 0 with at most three decimal places' }]);
    }
    return { ...it, quantity: q, unit_price: it.unit_price === undefined ? null : toMoney(it.unit_price, `items[${i}].unit_price`) };
  });

  const customer = await tx.query(`SELECT 1 FROM customers WHERE id = $1`, [input.customer_id]);
  if (!customer.rows.length) throw notFound('Customer');
  const ids = [...new Set(items.map((i) => i.product_id))];
  const products = await tx.query<{ id: string; price: string }>(`SELECT id, price FROM products WHERE id = ANY($1::uuid[])`, [ids]);
  const price = new Map(products.rows.map((p) => [p.id, p.price]));
  const missing = items.filter((it) => !price.has(it.product_id)).map((it) => ({ it }));
  if (missing.length) {
    throw notFound(`Product ${missing.map(({ it }) => it.product_id).join(', ')}`);
  }

  const s = await tx.query<{ id: string }>(
    `INSERT INTO sales (business_id, customer_id, source, notes, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [businessId, input.customer_id, input.source ?? 'pos', input.notes ?? null, userId],
  );
  const saleId = s.rows[0].id;
  // Line totals and the sum are computed by PostgreSQL's numeric: exact decimal, rounded to paise.
  await tx.query(
    `INSERT INTO sale_items (business_id, sale_id, position, product_id, quantity, unit_price, line_total)
     SELECT $1, $2, x.position, x.product_id, x.quantity, x.unit_price, round(x.quantity * x.unit_price, 2)
     FROM unnest($3::int[], $4::uuid[], $5::numeric[], $6::numeric[]) AS x(position, product_id, quantity, unit_price)`,
    [businessId, saleId, items.map((_, i) => i + 1), items.map((i) => i.product_id), items.map((i) => i.quantity),
      items.map((i) => i.unit_price ?? price.get(i.product_id))],
  );
  await tx.query(
    `UPDATE sales SET total = (SELECT coalesce(sum(line_total), 0) FROM sale_items WHERE sale_id = $1) WHERE id = $1`,
    [saleId],
  );
  return saleId;
}

export async function createSale(ctx: Ctx, input: SaleInput) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const id = await insertDraftSale(tx, ctx.principal.businessId, ctx.principal.userId, { ...input, source: 'pos' });
    return loadSale(tx, id);
  });
}

export async function getSale(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, (tx) => loadSale(tx, id));
}

export async function listSales(ctx: Ctx, q: { limit?: number; cursor?: string; status?: string; customer_id?: string; payment_status?: string }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 's', 5);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT * FROM (SELECT ${SALE_COLS}, s.created_at::text AS cursor_ts FROM ${SALE_FROM}
         WHERE ($2::text IS NULL OR s.status = $2) AND ($3::uuid IS NULL OR s.customer_id = $3) ${c.sql}) x
       WHERE ($4::text IS NULL OR x.payment_status = $4)
       ORDER BY x.created_at DESC, x.id DESC LIMIT $1`,
      [limit + 1, q.status ?? null, q.customer_id ?? null, q.payment_status ?? null, ...c.params],
    );
    const p = page(r.rows, limit);
    return { ...p, data: await attachItems(tx, p.data) };
  });
}

export async function finalizeSale(ctx: Ctx, id: string) {
  const businessId = ctx.principal.businessId;
  return withTenant(ctx.db, businessId, async (tx) => {
    // The row lock makes a concurrent second finalize wait, then see 'final' and get 409.
    const locked = await tx.query<{ status: string; customer_id: string }>(
      `SELECT status, customer_id FROM sales WHERE id = $1 FOR UPDATE`, [id]);
    if (!locked.rows[0]) throw notFound('Sale');
    if (locked.rows[0].status !== 'draft') throw conflict('This sale is already final', 'sale_already_final');

    const invoiceNo = await nextNumber(tx, businessId, 'invoice', 'INV-');
    const s = await tx.query<{ total: string }>(
      `UPDATE sales SET status = 'final', invoice_no = $2, finalized_at = now() WHERE id = $1 RETURNING total`,
      [id, invoiceNo],
    );
    await recordEvent(tx, businessId, 'sale.created', {
      sale_id: id, invoice_no: invoiceNo, total: s.rows[0].total, customer_id: locked.rows[0].customer_id,
    });
    await createProductionOrderForSale(tx, businessId, id);
    return loadSale(tx, id);
  });
}
