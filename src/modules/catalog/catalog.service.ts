// Products and their production steps (the recipe each sale item is made by). A product is never
// deleted — old sales point at it — only archived: hidden from the catalog, ordering and new sales.
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import { toMoney } from '../../platform/money.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import { withTenant, type Tx } from '../../platform/tenancy.js';
import type { Ctx } from '../context.js';
import { diff, moneyFormatter, recordAudit } from '../audit/index.js';

const COLS = 'p.id, p.name, p.sku, p.price, p.production_steps, p.archived_at IS NOT NULL AS archived, p.archived_at';

export interface ProductInput { name?: string; sku?: string | null; price?: string | number; production_steps?: string[] }

/** Spaces inside a name are kept as one; the uniqueness key ignores them altogether (see 0005). */
const cleanName = (name: string) => name.trim().replace(/\s+/g, ' ');
const cleanSteps = (steps: string[]) => steps.map((s) => s.trim()).filter(Boolean);

/** Turns a clash on an active product's name or SKU into the 409 that names it. */
async function uniqueOr409<T>(input: ProductInput, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err: any) {
    // The unique indexes decide (two requests at once cannot both pass a check); the error says which one.
    if (err?.code !== '23505') throw err;
    if (String(err.constraint ?? err.message).includes('products_active_sku')) {
      throw conflict(`A product with SKU "${input.sku}" already exists`, 'sku_taken');
    }
    throw conflict(`A product named "${input.name}" already exists (names are compared ignoring case and spaces)`, 'duplicate_name');
  }
}

export async function createProduct(ctx: Ctx, input: ProductInput & { name: string; price: string | number }) {
  const price = toMoney(input.price, 'price');
  const name = cleanName(input.name);
  if (!name) throw badRequest('Invalid name', [{ field: 'name', message: 'must not be blank' }]);
  return withTenant(ctx.db, ctx.principal.businessId, (tx) => uniqueOr409(input, async () => {
    const r = await tx.query(
      `INSERT INTO products AS p (business_id, name, sku, price, production_steps) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLS}`,
      [ctx.principal.businessId, name, input.sku?.trim() || null, price, cleanSteps(input.production_steps ?? [])],
    );
    const p = r.rows[0];
    const money = await moneyFormatter(tx);
    await recordAudit(tx, ctx, {
      action: 'product.created', entity_type: 'product', entity_id: p.id,
      summary: `added the product ${p.name} at ${money(p.price)}`,
      changes: { name: [null, p.name], price: [null, p.price] },
    });
    return p;
  }));
}

/** Changes name, SKU, price or steps. New steps apply to production orders created from now on; orders made already keep theirs. */
export async function updateProduct(ctx: Ctx, id: string, input: ProductInput) {
  const price = input.price === undefined ? null : toMoney(input.price, 'price');
  const name = input.name === undefined ? null : cleanName(input.name);
  if (name === '') throw badRequest('Invalid name', [{ field: 'name', message: 'must not be blank' }]);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const cur = await tx.query<{ archived_at: string | null; name: string; sku: string | null; price: string; production_steps: string[] }>(
      `SELECT archived_at, name, sku, price, production_steps FROM products WHERE id = $1 FOR UPDATE`, [id]);
    const before = cur.rows[0];
    if (!before) throw notFound('Product');
    if (before.archived_at) throw conflict('This product is archived and cannot be changed', 'product_archived');
    const updated = await uniqueOr409(input, async () => {
      const r = await tx.query(
        `UPDATE products p SET
           name = coalesce($2, p.name),
           sku = CASE WHEN $3 THEN $4 ELSE p.sku END,
           price = coalesce($5, p.price),
           production_steps = coalesce($6, p.production_steps)
         WHERE p.id = $1 RETURNING ${COLS}`,
        [id, name, input.sku !== undefined, input.sku?.trim() || null, price,
          input.production_steps === undefined ? null : cleanSteps(input.production_steps)],
      );
      return r.rows[0];
    });
    await auditProductChange(tx, ctx, before, updated);
    return updated;
  });
}

/** One entry for a new price (the change owners ask about most), one for the other fields. */
async function auditProductChange(tx: Tx, ctx: Ctx, before: Record<string, any>, after: Record<string, any>) {
  const money = await moneyFormatter(tx);
  if (before.price !== after.price) {
    await recordAudit(tx, ctx, {
      action: 'product.price_changed', entity_type: 'product', entity_id: after.id,
      summary: `changed the price of ${before.name} from ${money(before.price)} to ${money(after.price)}`,
      changes: { price: [before.price, after.price] },
    });
  }
  const other = diff(before, after, ['name', 'sku', 'production_steps']);
  const what: Record<string, string> = { name: 'name', sku: 'SKU', production_steps: 'production steps' };
  if (Object.keys(other).length) {
    const said = Object.entries(other).map(([f, [, to]]) =>
      `${what[f]} to ${f === 'production_steps' ? (to as string[]).join(', ') || 'none' : to ?? 'none'}`);
    await recordAudit(tx, ctx, {
      action: 'product.changed', entity_type: 'product', entity_id: after.id,
      summary: `changed ${before.name}: ${said.join('; ')}`,
      changes: other,
    });
  }
}

/** Archives: gone from the catalog, ordering and new sales; kept on the sales that have it. Archiving twice is harmless. */
export async function archiveProduct(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const cur = await tx.query<{ archived_at: string | null }>(`SELECT archived_at FROM products WHERE id = $1 FOR UPDATE`, [id]);
    if (!cur.rows[0]) throw notFound('Product');
    const r = await tx.query(
      `UPDATE products p SET archived_at = coalesce(p.archived_at, now()) WHERE p.id = $1 RETURNING ${COLS}`, [id]);
    const product = r.rows[0];
    if (!cur.rows[0].archived_at) {
      await recordAudit(tx, ctx, {
        action: 'product.archived', entity_type: 'product', entity_id: id,
        summary: `archived the product ${product.name}`, changes: { archived: [false, true] },
      });
    }
    return product;
  });
}

export async function listProducts(ctx: Ctx, q: { limit?: number; cursor?: string; q?: string; include_archived?: boolean }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'p', 4);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT ${COLS}, p.created_at::text AS cursor_ts FROM products p
       WHERE ($2::text IS NULL OR p.name ILIKE '%' || $2 || '%' OR p.sku = $2) AND ($3 OR p.archived_at IS NULL) ${c.sql}
       ORDER BY p.created_at DESC, p.id DESC LIMIT $1`,
      [limit + 1, q.q ?? null, q.include_archived ?? false, ...c.params],
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
