// Production: Phase A (an order per finalized sale), Phase B (steps, assignment, the worker's
// flow, ready for delivery) and Phase C (expenses and the cost roll-up).
import { can } from '../../platform/auth.js';
import { badRequest, conflict, forbidden, notFound } from '../../platform/errors.js';
import { recordEvent } from '../../platform/events.js';
import { isPositive, toMoney } from '../../platform/money.js';
import { nextNumber } from '../../platform/numbering.js';
import { withTenant, type Tx } from '../../platform/tenancy.js';
import type { Ctx } from '../context.js';

const ORDER_COLS = `po.id, po.order_no, po.sale_id, s.invoice_no, s.customer_id, c.name AS customer_name, po.status,
  po.total_cost, s.total AS sale_total, (s.total - po.total_cost)::numeric(12,2) AS margin,
  s.due_at, s.fulfilment, s.delivery_address, po.created_at, po.completed_at, po.ready_at, po.cancelled_at`;
const ORDER_FROM = `production_orders po
  JOIN sales s ON s.id = po.sale_id AND s.business_id = po.business_id
  JOIN customers c ON c.id = s.customer_id AND c.business_id = s.business_id`;
const STEP_COLS = `st.id, st.name, st.sequence, st.status, st.assigned_worker_id, u.name AS assigned_worker_name,
  p.name AS product_name, i.quantity::float8 AS quantity, st.started_at, st.completed_at`;
const STEP_FROM = `production_steps st
  JOIN sale_items i ON i.id = st.sale_item_id AND i.business_id = st.business_id
  JOIN products p ON p.id = i.product_id AND p.business_id = i.business_id
  LEFT JOIN users u ON u.id = st.assigned_worker_id AND u.business_id = st.business_id`;

/**
 * Phase A, inside the finalize transaction: one production order for the sale, with one step per
 * (item, product step) in order. A sale with nothing to make gets no order.
 */
export async function createProductionOrderForSale(tx: Tx, businessId: string, saleId: string): Promise<string | null> {
  const work = await tx.query<{ sale_item_id: string; step: string }>(
    `SELECT i.id AS sale_item_id, step.name AS step
     FROM sale_items i JOIN products p ON p.id = i.product_id AND p.business_id = i.business_id
     CROSS JOIN LATERAL unnest(p.production_steps) WITH ORDINALITY AS step(name, n)
     WHERE i.sale_id = $1 ORDER BY i.position, step.n`,
    [saleId],
  );
  if (!work.rows.length) return null;
  const orderNo = await nextNumber(tx, businessId, 'production_order', 'PO-');
  const o = await tx.query<{ id: string; customer_id: string }>(
    `INSERT INTO production_orders (business_id, order_no, sale_id) VALUES ($1, $2, $3)
     RETURNING id, (SELECT customer_id FROM sales WHERE id = $3) AS customer_id`,
    [businessId, orderNo, saleId],
  );
  const orderId = o.rows[0].id;
  await tx.query(
    `INSERT INTO production_steps (business_id, production_order_id, sale_item_id, name, sequence)
     SELECT $1, $2, x.sale_item_id, x.name, x.seq FROM unnest($3::uuid[], $4::text[], $5::int[]) AS x(sale_item_id, name, seq)`,
    [businessId, orderId, work.rows.map((w) => w.sale_item_id), work.rows.map((w) => w.step), work.rows.map((_, i) => i + 1)],
  );
  await recordEvent(tx, businessId, 'production.created', {
    production_order_id: orderId, order_no: orderNo, sale_id: saleId, customer_id: o.rows[0].customer_id,
  });
  return orderId;
}

/** Cancelled with its sale: its steps are no one's work any more. Returns the order cancelled, if the sale had one. */
export async function cancelProductionOrderForSale(tx: Tx, saleId: string): Promise<{ id: string; order_no: string } | null> {
  const r = await tx.query<{ id: string; order_no: string }>(
    `UPDATE production_orders SET status = 'cancelled', cancelled_at = now() WHERE sale_id = $1 AND status <> 'cancelled'
     RETURNING id, order_no`, [saleId]);
  return r.rows[0] ?? null;
}

// ---- due dates ----
// Day boundaries are the business's own (businesses.timezone): "today" is the shop's today.
const LOCAL_DAY = (n: number) => `(((now() AT TIME ZONE b.timezone)::date + ${n})::timestamp AT TIME ZONE b.timezone)`;
const BUSINESS = `(SELECT timezone FROM businesses WHERE id = app_business_id()) AS b(timezone)`;
export type DueFilter = 'today' | 'tomorrow' | 'overdue';

/** SQL condition on s.due_at and po.status for ?due=; cancelled orders are never due, ready ones never overdue. */
function dueCondition(due: DueFilter | undefined): string {
  switch (due) {
    case 'today': return `s.due_at >= ${LOCAL_DAY(0)} AND s.due_at < ${LOCAL_DAY(1)} AND po.status <> 'cancelled'`;
    case 'tomorrow': return `s.due_at >= ${LOCAL_DAY(1)} AND s.due_at < ${LOCAL_DAY(2)} AND po.status <> 'cancelled'`;
    case 'overdue': return `s.due_at < now() AND po.status NOT IN ('ready', 'cancelled')`;
    default: return 'true';
  }
}

// Soonest due first, orders with no due date last, then oldest first. The list's cursor is the
// last row's place in that order: (due date or infinity, created_at, id), as the database wrote them.
const DUE_KEY = `coalesce(s.due_at, 'infinity'::timestamptz)`;
const CURSOR_TS = /^(infinity|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?)$/;

function decodeDueCursor(cursor: string | undefined): [string, string, string] | undefined {
  if (!cursor) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && CURSOR_TS.test(v[0]) && CURSOR_TS.test(v[1]) && v[1] !== 'infinity'
      && /^[0-9a-f-]{36}$/i.test(v[2])) return v as [string, string, string];
  } catch { /* fall through */ }
  throw badRequest('Invalid cursor', [{ field: 'cursor', message: 'is not a cursor this API returned' }]);
}

async function attachSteps(tx: Tx, orders: any[]) {
  if (!orders.length) return orders;
  const r = await tx.query<any>(
    `SELECT st.production_order_id, ${STEP_COLS} FROM ${STEP_FROM}
     WHERE st.production_order_id = ANY($1::uuid[]) ORDER BY st.production_order_id, st.sequence`,
    [orders.map((o) => o.id)],
  );
  const byOrder = new Map<string, any[]>();
  for (const { production_order_id, ...step } of r.rows) {
    if (!byOrder.has(production_order_id)) byOrder.set(production_order_id, []);
    byOrder.get(production_order_id)!.push(step);
  }
  return orders.map((o) => ({ ...o, steps: byOrder.get(o.id) ?? [] }));
}

async function loadOrder(tx: Tx, id: string) {
  const r = await tx.query<any>(`SELECT ${ORDER_COLS} FROM ${ORDER_FROM} WHERE po.id = $1`, [id]);
  if (!r.rows[0]) throw notFound('Production order');
  return (await attachSteps(tx, r.rows))[0];
}

export async function listOrders(ctx: Ctx, q: { limit?: number; cursor?: string; status?: string; sale_id?: string; due?: DueFilter }) {
  const limit = q.limit ?? 50;
  const after = decodeDueCursor(q.cursor);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT ${ORDER_COLS}, ${DUE_KEY}::text AS due_key, po.created_at::text AS created_key FROM ${ORDER_FROM}, ${BUSINESS}
       WHERE ($2::text IS NULL OR po.status = $2) AND ($3::uuid IS NULL OR po.sale_id = $3) AND ${dueCondition(q.due)}
         AND ($4::timestamptz IS NULL OR (${DUE_KEY}, po.created_at, po.id) > ($4::timestamptz, $5::timestamptz, $6::uuid))
       ORDER BY ${DUE_KEY}, po.created_at, po.id LIMIT $1`,
      [limit + 1, q.status ?? null, q.sale_id ?? null, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null],
    );
    const more = r.rows.length > limit;
    const rows = r.rows.slice(0, limit);
    const last = rows[rows.length - 1];
    const next_cursor = more && last ? Buffer.from(JSON.stringify([last.due_key, last.created_key, last.id])).toString('base64url') : null;
    const data = rows.map(({ due_key, created_key, ...o }) => o);
    return { data: await attachSteps(tx, data), next_cursor };
  });
}

export async function getOrder(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, (tx) => loadOrder(tx, id));
}

export async function assignStep(ctx: Ctx, orderId: string, stepId: string, workerId: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const st = await tx.query<{ status: string; order_status: string }>(
      `SELECT st.status, po.status AS order_status FROM production_steps st
       JOIN production_orders po ON po.id = st.production_order_id AND po.business_id = st.business_id
       WHERE st.id = $1 AND st.production_order_id = $2 FOR UPDATE OF st`,
      [stepId, orderId],
    );
    if (!st.rows[0]) throw notFound('Production step');
    if (st.rows[0].order_status === 'cancelled') throw conflict('This order is cancelled', 'order_cancelled');
    if (st.rows[0].status === 'completed') throw conflict('This step is already completed', 'step_completed');
    const w = await tx.query<{ role: any; is_active: boolean }>(`SELECT role, is_active FROM users WHERE id = $1`, [workerId]);
    if (!w.rows[0]) throw notFound('Worker');
    if (!w.rows[0].is_active) throw badRequest('This user is deactivated', [{ field: 'worker_id', message: 'is a deactivated user' }]);
    if (!can(w.rows[0].role, 'production.work')) {
      throw badRequest('This user cannot do production work', [{ field: 'worker_id', message: `a ${w.rows[0].role} user cannot be assigned steps` }]);
    }
    await tx.query(`UPDATE production_steps SET assigned_worker_id = $2 WHERE id = $1`, [stepId, workerId]);
    return loadOrder(tx, orderId);
  });
}

/** Locks the step's order first, so two workers finishing the last two steps at once agree on who completed the order. */
async function lockStepForWork(ctx: Ctx, tx: Tx, stepId: string) {
  const o = await tx.query<{ id: string; status: string }>(
    `SELECT po.id, po.status FROM production_orders po JOIN production_steps st ON st.production_order_id = po.id AND st.business_id = po.business_id
     WHERE st.id = $1 FOR UPDATE OF po`, [stepId]);
  if (!o.rows[0]) throw notFound('Production step');
  const st = await tx.query<any>(`SELECT * FROM production_steps WHERE id = $1 FOR UPDATE`, [stepId]);
  const step = st.rows[0];
  const mine = step.assigned_worker_id === ctx.principal.userId;
  if (!mine && !can(ctx.principal.role, 'production.manage')) {
    throw forbidden(step.assigned_worker_id ? 'This step is assigned to someone else' : 'This step is not assigned to you');
  }
  if (o.rows[0].status === 'cancelled') throw conflict('This order was cancelled; its steps need no more work', 'order_cancelled');
  return step;
}

// What a worker sees of a step's order: its number, state, and when and how it must go out — no
// customer, no address, no money.
const WORKER_STEP_COLS = `${STEP_COLS}, po.id AS production_order_id, po.order_no, po.status AS order_status, s.due_at, s.fulfilment`;
const WORKER_STEP_FROM = `${STEP_FROM}
  JOIN production_orders po ON po.id = st.production_order_id AND po.business_id = st.business_id
  JOIN sales s ON s.id = po.sale_id AND s.business_id = po.business_id`;

async function loadWorkerStep(tx: Tx, stepId: string) {
  const r = await tx.query<any>(`SELECT ${WORKER_STEP_COLS} FROM ${WORKER_STEP_FROM} WHERE st.id = $1`, [stepId]);
  return r.rows[0];
}

export async function startStep(ctx: Ctx, stepId: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const step = await lockStepForWork(ctx, tx, stepId);
    if (step.status === 'completed') throw conflict('This step is already completed', 'step_completed');
    if (step.status === 'pending') {
      await tx.query(`UPDATE production_steps SET status = 'in_progress', started_at = now() WHERE id = $1`, [stepId]);
      await tx.query(`UPDATE production_orders SET status = 'in_progress' WHERE id = $1 AND status = 'pending'`, [step.production_order_id]);
    }
    return loadWorkerStep(tx, stepId);
  });
}

export async function completeStep(ctx: Ctx, stepId: string) {
  const businessId = ctx.principal.businessId;
  return withTenant(ctx.db, businessId, async (tx) => {
    const step = await lockStepForWork(ctx, tx, stepId);
    if (step.status === 'completed') throw conflict('This step is already completed', 'step_completed');
    await tx.query(
      `UPDATE production_steps SET status = 'completed', started_at = coalesce(started_at, now()), completed_at = now(), completed_by = $2
       WHERE id = $1`, [stepId, ctx.principal.userId]);
    const o = await tx.query<{ order_no: string; sale_id: string; customer_id: string; remaining: number }>(
      `SELECT po.order_no, po.sale_id, s.customer_id,
         (SELECT count(*)::int FROM production_steps WHERE production_order_id = po.id AND status <> 'completed') AS remaining
       FROM production_orders po JOIN sales s ON s.id = po.sale_id AND s.business_id = po.business_id WHERE po.id = $1`,
      [step.production_order_id]);
    const { order_no, sale_id, customer_id, remaining } = o.rows[0];
    const ids = { production_order_id: step.production_order_id, order_no, sale_id, customer_id };
    await recordEvent(tx, businessId, 'production.step.completed', { ...ids, step_id: stepId, step_name: step.name });
    if (remaining === 0) {
      await tx.query(`UPDATE production_orders SET status = 'completed', completed_at = now() WHERE id = $1`, [step.production_order_id]);
      await recordEvent(tx, businessId, 'production.completed', ids);
    } else {
      await tx.query(`UPDATE production_orders SET status = 'in_progress' WHERE id = $1 AND status = 'pending'`, [step.production_order_id]);
    }
    return loadWorkerStep(tx, stepId);
  });
}

export async function listWorkerSteps(ctx: Ctx, q: { limit?: number; cursor?: string; status?: string; due?: DueFilter }) {
  const limit = q.limit ?? 50;
  const status = q.status ?? 'open';
  const statuses = status === 'open' ? ['pending', 'in_progress'] : status === 'all' ? ['pending', 'in_progress', 'completed'] : [status];
  // A worker's queue reads soonest due first (no due date last), then oldest order, in step order;
  // steps of cancelled orders are not work. The cursor is a position in it.
  const offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString()) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw badRequest('Invalid cursor', [{ field: 'cursor', message: 'is not a cursor this API returned' }]);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT ${WORKER_STEP_COLS} FROM ${WORKER_STEP_FROM}, ${BUSINESS}
       WHERE st.assigned_worker_id = $2 AND st.status = ANY($3::text[]) AND po.status <> 'cancelled' AND ${dueCondition(q.due)}
       ORDER BY ${DUE_KEY}, po.created_at, po.id, st.sequence LIMIT $1 OFFSET $4`,
      [limit + 1, ctx.principal.userId, statuses, offset],
    );
    const more = r.rows.length > limit;
    return {
      data: r.rows.slice(0, limit),
      next_cursor: more ? Buffer.from(String(offset + limit)).toString('base64url') : null,
    };
  });
}

export async function markReady(ctx: Ctx, orderId: string) {
  const businessId = ctx.principal.businessId;
  return withTenant(ctx.db, businessId, async (tx) => {
    const o = await tx.query<any>(
      `SELECT po.status, po.order_no, po.sale_id, s.customer_id FROM production_orders po
       JOIN sales s ON s.id = po.sale_id AND s.business_id = po.business_id WHERE po.id = $1 FOR UPDATE OF po`, [orderId]);
    const order = o.rows[0];
    if (!order) throw notFound('Production order');
    if (order.status === 'ready') throw conflict('This order is already ready', 'order_already_ready');
    if (order.status === 'cancelled') throw conflict('This order is cancelled', 'order_cancelled');
    if (order.status !== 'completed') throw conflict('Every step must be completed before the order is ready', 'order_not_completed');
    await tx.query(`UPDATE production_orders SET status = 'ready', ready_at = now() WHERE id = $1`, [orderId]);
    await recordEvent(tx, businessId, 'order.ready', {
      production_order_id: orderId, order_no: order.order_no, sale_id: order.sale_id, customer_id: order.customer_id,
    });
    return loadOrder(tx, orderId);
  });
}

export async function addExpense(ctx: Ctx, orderId: string, input: { category: string; amount: string | number; description?: string }) {
  const amount = toMoney(input.amount, 'amount');
  if (!isPositive(amount)) throw badRequest('Invalid amount', [{ field: 'amount', message: 'must be more than 0' }]);
  const businessId = ctx.principal.businessId;
  return withTenant(ctx.db, businessId, async (tx) => {
    const o = await tx.query(`SELECT 1 FROM production_orders WHERE id = $1 FOR UPDATE`, [orderId]);
    if (!o.rows[0]) throw notFound('Production order');
    const e = await tx.query<any>(
      `INSERT INTO production_expenses (business_id, production_order_id, category, amount, description, created_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, production_order_id, category, amount, description, created_at`,
      [businessId, orderId, input.category, amount, input.description ?? null, ctx.principal.userId]);
    await tx.query(`UPDATE production_orders SET total_cost = total_cost + $2 WHERE id = $1`, [orderId, amount]);
    return { expense: e.rows[0], production_order: await loadOrder(tx, orderId) };
  });
}

export async function listExpenses(ctx: Ctx, orderId: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const o = await tx.query(`SELECT 1 FROM production_orders WHERE id = $1`, [orderId]);
    if (!o.rows[0]) throw notFound('Production order');
    const r = await tx.query(
      `SELECT id, production_order_id, category, amount, description, created_at FROM production_expenses
       WHERE production_order_id = $1 ORDER BY created_at, id`, [orderId]);
    return { data: r.rows, next_cursor: null };
  });
}
