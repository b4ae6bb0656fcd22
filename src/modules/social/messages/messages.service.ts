// The message log: every inbound and outbound message of the business, newest first.
import { cursorClause, decodeCursor, page } from '../../../platform/pagination.js';
import { withTenant } from '../../../platform/tenancy.js';
import type { Ctx } from '../../context.js';
import { MESSAGE_COLS, MESSAGE_FROM } from '../conversations/conversations.service.js';

export type MessageFilters = { limit?: number; cursor?: string; direction?: string; status?: string; channel_id?: string; reference_type?: string; reference_id?: string; customer_id?: string };

export async function listMessages(ctx: Ctx, q: MessageFilters) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'm', 8);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(
      `SELECT ${MESSAGE_COLS}, m.created_at::text AS cursor_ts
       FROM ${MESSAGE_FROM}
       WHERE ($2::text IS NULL OR m.direction = $2) AND ($3::text IS NULL OR m.status = $3)
         AND ($4::uuid IS NULL OR m.channel_id = $4) AND ($5::text IS NULL OR m.reference_type = $5)
         AND ($6::uuid IS NULL OR m.reference_id = $6) AND ($7::uuid IS NULL OR m.customer_id = $7) ${c.sql}
       ORDER BY m.created_at DESC, m.id DESC LIMIT $1`,
      [limit + 1, q.direction ?? null, q.status ?? null, q.channel_id ?? null, q.reference_type ?? null, q.reference_id ?? null,
        q.customer_id ?? null, ...c.params]);
    return page(r.rows as any[], limit);
  });
}

