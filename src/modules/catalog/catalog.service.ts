// Products and their production steps (the recipe each sale item is made by).
import { conflict, notFound } from '../../platform/errors.js';
import { toMoney } from '../../platform/money.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { withTenant } from '../../platform/tenancy.js';
import type { Ctx } from '../context.js';

const COLS = 'p.id, p.name, p.sku, p.price, p.production_steps';

export async function createProduct(ctx: Ctx, input: { name: string; sku?: string; price: string | number; production_steps?: string[] }) {
  const price = toMoney(input.price, 'price');
  const steps = (input.production_steps ?? []).map((s) => s.trim()).filter(Boolean);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(
      `INSERT INTO products AS p (business_id, name, sku, price, production_steps) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (business_id, sku) DO NOTHING RETURNING ${COLS}`,
      [ctx.principal.businessId, input.name.trim(), input.sku?.trim() ?? null, price, steps],
    );
    if (!r.rows[0]) throw conflict(`A product with SKU "${input.sku}" already exists`, 'sku_taken');
    return r.rows[0];
  });
}

export async function listProducts(ctx: Ctx, q: { limit?: number; cursor?: string; q?: string }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'p', 3);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT ${COLS}, p.created_at::text AS cursor_ts FROM products p
       WHERE ($2::text IS NULL OR p.name ILIKE '%' || $2 || '%' OR p.sku = $2) ${c.sql}
       ORDER BY p.created_at DESC, p.id DESC LIMIT $1`,
      [limit + 1, q.q ?? null, ...c.params],
    );
    return page(r.rows, limit);
  });
}

export async function getProduct(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${COLS} FROM products p WHERE p.id = $1`, [id]);
    if (!r.rows[0]) throw notFound('Product');
    return r.rows[0];
  });
}
