// Sales: drafts, finalizing (gapless invoice numbers, Phase A production order in the same
// transaction) and the sale as the customer's account: total, paid, balance.
import { AppError, badRequest, conflict, notFound } from '../../platform/errors.js';
import { recordEvent } from '../../platform/events.js';
import { toMoney } from '../../platform/money.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { withTenant, type Tx } from '../../platform/tenancy.js';
import { nextNumber } from '../../platform/numbering.js';
import { cancelProductionOrderForSale, createProductionOrderForSale } from '../production/index.js';
import type { Ctx } from '../context.js';
import { moneyFormatter, recordAudit } from '../audit/index.js';

export interface SaleItemInput { product_id: string; quantity: number; unit_price?: string | number }
export type Fulfilment = 'pickup' | 'delivery';
export interface DueInput {
  /** When the customer expects the order; an ISO 8601 timestamp with its offset, or null for none. */
  due_at?: string | Date | null;
  fulfilment?: Fulfilment;
  delivery_address?: string | null;
}
export interface SaleInput extends DueInput { customer_id: string; items: SaleItemInput[]; notes?: string; source?: string }
export interface SaleChanges extends DueInput { items?: SaleItemInput[]; notes?: string | null }

const SALE_COLS = `s.id, s.customer_id, c.name AS customer_name, s.status, s.invoice_no, s.total, s.amount_paid,
  (s.total - s.amount_paid)::numeric(12,2) AS balance,
  CASE WHEN s.amount_paid >= s.total THEN 'paid' WHEN s.amount_paid > 0 THEN 'partial' ELSE 'unpaid' END AS payment_status,
  s.source, s.notes, s.due_at, s.fulfilment, s.delivery_address, po.id AS production_order_id, s.created_at, s.finalized_at, s.cancelled_at`;
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

/**
 * Checks the items and prices them from the catalog. `allowArchived` lists the archived products
 * that may stay (those already on the draft); `true` lets any through (see insertDraftSale).
 */
async function priceItems(tx: Tx, input: SaleItemInput[], allowArchived: Set<string> | true) {
  const items = input.map((it, i) => {
    const q = String(it.quantity);
    if (!QTY_RE.test(q) || Number(q) <= 0) {
      throw badRequest('Invalid quantity', [{ field: `items[${i}].quantity`, message: 'must be more than 0 with at most three decimal places' }]);
    }
    return { ...it, quantity: q, unit_price: it.unit_price === undefined ? null : toMoney(it.unit_price, `items[${i}].unit_price`) };
  });
  const ids = [...new Set(items.map((i) => i.product_id))];
  const products = await tx.query<{ id: string; name: string; price: string; archived: boolean }>(
    `SELECT id, name, price, archived_at IS NOT NULL AS archived FROM products WHERE id = ANY($1::uuid[])`, [ids]);
  const byId = new Map(products.rows.map((p) => [p.id, p]));
  const missing = items.filter((it) => !byId.has(it.product_id));
  if (missing.length) throw notFound(`Product ${missing.map((it) => it.product_id).join(', ')}`);
  if (allowArchived !== true) {
    const archived = items.map((it, i) => ({ p: byId.get(it.product_id)!, i })).filter(({ p }) => p.archived && !allowArchived.has(p.id));
    if (archived.length) {
      throw new AppError(409, 'product_archived', `${archived.map(({ p }) => `"${p.name}"`).join(', ')} is no longer sold (archived)`,
        archived.map(({ i }) => ({ field: `items[${i}].product_id`, message: 'is an archived product' })));
    }
  }
  return items.map((it) => ({ ...it, unit_price: it.unit_price ?? byId.get(it.product_id)!.price }));
}

async function writeItems(tx: Tx, businessId: string, saleId: string, items: { product_id: string; quantity: string; unit_price: string }[]) {
  await tx.query(`DELETE FROM sale_items WHERE sale_id = $1`, [saleId]);
  // Line totals and the sum are computed by PostgreSQL's numeric: exact decimal, rounded to paise.
  await tx.query(
    `INSERT INTO sale_items (business_id, sale_id, position, product_id, quantity, unit_price, line_total)
     SELECT $1, $2, x.position, x.product_id, x.quantity, x.unit_price, round(x.quantity * x.unit_price, 2)
     FROM unnest($3::int[], $4::uuid[], $5::numeric[], $6::numeric[]) AS x(position, product_id, quantity, unit_price)`,
    [businessId, saleId, items.map((_, i) => i + 1), items.map((i) => i.product_id), items.map((i) => i.quantity), items.map((i) => i.unit_price)],
  );
  await tx.query(
    `UPDATE sales SET total = (SELECT coalesce(sum(line_total), 0) FROM sale_items WHERE sale_id = $1) WHERE id = $1`,
    [saleId],
  );
}

/** The due date and how the order reaches the customer, merged over what the sale has; an address is needed for delivery. */
function dueFields(input: DueInput, current: { due_at: string | null; fulfilment: Fulfilment; delivery_address: string | null }) {
  let due_at = current.due_at;
  if (input.due_at !== undefined) {
    const d = input.due_at === null ? null : new Date(input.due_at);
    if (d && Number.isNaN(d.getTime())) throw badRequest('Invalid due date', [{ field: 'due_at', message: 'must be an ISO 8601 timestamp' }]);
    due_at = d ? d.toISOString() : null;
  }
  const fulfilment = input.fulfilment ?? current.fulfilment;
  const given = input.delivery_address === undefined ? current.delivery_address : input.delivery_address?.trim() || null;
  if (fulfilment === 'delivery' && !given) {
    throw badRequest('A delivery needs an address', [{ field: 'delivery_address', message: 'is required when fulfilment is delivery' }]);
  }
  // An address is kept only for a delivery, so a pickup never shows a stale one.
  return { due_at, fulfilment, delivery_address: fulfilment === 'delivery' ? given : null };
}

/**
 * Creates a draft sale in an open transaction: used by the API and by conversational ordering
 * (which may pass the due date it read from the message). By default it takes archived products
 * too, so a pending WhatsApp order confirmed after a product was archived never jams the inbound
 * queue; the API refuses them (createSale passes an empty allow-list).
 */
export async function insertDraftSale(tx: Tx, businessId: string, userId: string | null, input: SaleInput, allowArchived: Set<string> | true = true) {
  const items = await priceItems(tx, input.items, allowArchived);
  const due = dueFields(input, { due_at: null, fulfilment: 'pickup', delivery_address: null });
  const customer = await tx.query(`SELECT 1 FROM customers WHERE id = $1`, [input.customer_id]);
  if (!customer.rows.length) throw notFound('Customer');

  const s = await tx.query<{ id: string }>(
    `INSERT INTO sales (business_id, customer_id, source, notes, created_by, due_at, fulfilment, delivery_address)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [businessId, input.customer_id, input.source ?? 'pos', input.notes ?? null, userId, due.due_at, due.fulfilment, due.delivery_address],
  );
  const saleId = s.rows[0].id;
  await writeItems(tx, businessId, saleId, items);
  return saleId;
}

export async function createSale(ctx: Ctx, input: SaleInput) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const id = await insertDraftSale(tx, ctx.principal.businessId, ctx.principal.userId, { ...input, source: 'pos' }, new Set());
    return loadSale(tx, id);
  });
}

/** Changes a draft: its items (the whole list), notes, due date and fulfilment. A final sale is changed by cancelling it. */
export async function updateDraftSale(ctx: Ctx, id: string, input: SaleChanges) {
  const businessId = ctx.principal.businessId;
  return withTenant(ctx.db, businessId, async (tx) => {
    const cur = await tx.query<any>(
      `SELECT status, due_at, fulfilment, delivery_address FROM sales WHERE id = $1 FOR UPDATE`, [id]);
    const sale = cur.rows[0];
    if (!sale) throw notFound('Sale');
    if (sale.status !== 'draft') throw conflict(`Only a draft can be changed; this sale is ${sale.status}`, 'sale_not_draft');
    const due = dueFields(input, { ...sale, due_at: sale.due_at ? new Date(sale.due_at).toISOString() : null });
    if (input.items) {
      // An archived product already on the draft may stay; none may be added.
      const onDraft = await tx.query<{ product_id: string }>(`SELECT DISTINCT product_id FROM sale_items WHERE sale_id = $1`, [id]);
      const items = await priceItems(tx, input.items, new Set(onDraft.rows.map((r) => r.product_id)));
      await writeItems(tx, businessId, id, items);
    }
    await tx.query(
      `UPDATE sales SET notes = CASE WHEN $2 THEN $3 ELSE notes END, due_at = $4, fulfilment = $5, delivery_address = $6 WHERE id = $1`,
      [id, input.notes !== undefined, input.notes ?? null, due.due_at, due.fulfilment, due.delivery_address]);
    return loadSale(tx, id);
  });
}

/**
 * Cancels a draft, or a final sale nobody has paid anything on; its production order is cancelled
 * with it. A final sale keeps its invoice number, so the numbers stay gapless. The customer is told
 * (order.cancelled) when they knew of the order: it was final, or they asked for it in a conversation.
 */
export async function cancelSale(ctx: Ctx, id: string) {
  const businessId = ctx.principal.businessId;
  return withTenant(ctx.db, businessId, async (tx) => {
    const cur = await tx.query<{ status: string; source: string; invoice_no: string | null; total: string; customer_id: string; paid: boolean }>(
      `SELECT status, source, invoice_no, total, customer_id, EXISTS (SELECT 1 FROM payments WHERE sale_id = s.id) AS paid
       FROM sales s WHERE id = $1 FOR UPDATE`, [id]);
    const sale = cur.rows[0];
    if (!sale) throw notFound('Sale');
    if (sale.status === 'cancelled') throw conflict('This sale is already cancelled', 'sale_cancelled');
    if (sale.paid) throw conflict('This sale has payments; it cannot be cancelled', 'sale_has_payments');
    await tx.query(`UPDATE sales SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, [id]);
    const order = await cancelProductionOrderForSale(tx, id);
    const money = await moneyFormatter(tx);
    const customer = await tx.query<{ name: string }>(`SELECT name FROM customers WHERE id = $1`, [sale.customer_id]);
    await recordAudit(tx, ctx, {
      action: 'sale.cancelled', entity_type: 'sale', entity_id: id,
      summary: `cancelled ${sale.invoice_no ? `sale ${sale.invoice_no}` : 'a draft sale'} of ${money(sale.total)} for ${customer.rows[0]?.name ?? 'a customer'}`
        + (order ? ` and its production order ${order.order_no}` : ''),
      changes: { status: [sale.status, 'cancelled'] },
    });
    if (sale.status === 'final' || sale.source !== 'pos') {
      await recordEvent(tx, businessId, 'order.cancelled', {
        sale_id: id, invoice_no: sale.invoice_no, total: sale.total, customer_id: sale.customer_id,
        production_order_id: order?.id ?? null, order_no: order?.order_no ?? null,
      });
    }
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
    if (locked.rows[0].status === 'cancelled') throw conflict('This sale is cancelled', 'sale_cancelled');
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
