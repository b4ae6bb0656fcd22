// Payments against final sales; the sale's amount_paid is the running sum, so the balance and the
// payment status follow from it. Overpaying is refused.
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import { recordEvent } from '../../platform/events.js';
import { fromMinor, isPositive, toMinor, toMoney } from '../../platform/money.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { withTenant } from '../../platform/tenancy.js';
import type { Ctx } from '../context.js';

const COLS = 'p.id, p.sale_id, p.amount, p.method, p.reference, p.received_at';

export async function recordPayment(ctx: Ctx, input: { sale_id: string; amount: string | number; method: string; reference?: string }) {
  const amount = toMoney(input.amount, 'amount');
  if (!isPositive(amount)) throw badRequest('Invalid amount', [{ field: 'amount', message: 'must be more than 0' }]);
  const businessId = ctx.principal.businessId;
  return withTenant(ctx.db, businessId, async (tx) => {
    // Locked so two payments at once cannot both fit under the balance.
    const s = await tx.query<{ status: string; total: string; amount_paid: string; invoice_no: string; customer_id: string }>(
      `SELECT status, total, amount_paid, invoice_no, customer_id FROM sales WHERE id = $1 FOR UPDATE`, [input.sale_id]);
    const sale = s.rows[0];
    if (!sale) throw notFound('Sale');
    if (sale.status === 'cancelled') throw conflict('This sale is cancelled', 'sale_cancelled');
    if (sale.status !== 'final') throw conflict('Only a final sale can be paid; finalize it first', 'sale_not_final');
    const balance = toMinor(sale.total) - toMinor(sale.amount_paid);
    if (toMinor(amount) > balance) {
      throw conflict(`This payment of ${amount} is more than the balance of ${fromMinor(balance)}`, 'overpayment');
    }
    const p = await tx.query<any>(
      `INSERT INTO payments AS p (business_id, sale_id, amount, method, reference, recorded_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLS}`,
      [businessId, input.sale_id, amount, input.method, input.reference ?? null, ctx.principal.userId]);
    const u = await tx.query<any>(
      `UPDATE sales SET amount_paid = amount_paid + $2 WHERE id = $1
       RETURNING id, invoice_no, total, amount_paid, (total - amount_paid)::numeric(12,2) AS balance,
         CASE WHEN amount_paid >= total THEN 'paid' WHEN amount_paid > 0 THEN 'partial' ELSE 'unpaid' END AS payment_status`,
      [input.sale_id, amount]);
    const updated = u.rows[0];
    await recordEvent(tx, businessId, 'payment.received', {
      payment_id: p.rows[0].id, amount, sale_id: input.sale_id, balance: updated.balance,
      invoice_no: sale.invoice_no, customer_id: sale.customer_id,
    });
    return { ...p.rows[0], sale: updated };
  });
}

export async function listPayments(ctx: Ctx, q: { limit?: number; cursor?: string; sale_id?: string }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'p', 3, 'received_at');
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT ${COLS}, p.received_at::text AS cursor_ts FROM payments p
       WHERE ($2::uuid IS NULL OR p.sale_id = $2) ${c.sql}
       ORDER BY p.received_at DESC, p.id DESC LIMIT $1`, [limit + 1, q.sale_id ?? null, ...c.params]);
    return page(r.rows, limit);
  });
}

export async function getPayment(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${COLS} FROM payments p WHERE p.id = $1`, [id]);
    if (!r.rows[0]) throw notFound('Payment');
    return r.rows[0];
  });
}
