import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery, cursorClause, decodeCursor, page } from '../../../platform/pagination.js';
import { withTenant } from '../../../platform/tenancy.js';
import { ctxOf, type Ctx } from '../../context.js';
import { Id, Nullable, PageOf, Timestamp } from '../../schemas.js';

const Message = Type.Object({
  id: Id, channel_id: Id,
  direction: Type.String(), status: Type.String(),
  from_number: Nullable(Type.String()), to_number: Nullable(Type.String()),
  message_text: Nullable(Type.String()), message_type: Type.String(),
  customer_id: Nullable(Id), reference_type: Nullable(Type.String()), reference_id: Nullable(Id),
  event_type: Nullable(Type.String()), template_name: Nullable(Type.String()),
  provider_message_id: Nullable(Type.String()), error_code: Nullable(Type.String()), error_message: Nullable(Type.String()),
  attempts: Type.Integer(), metadata: Type.Record(Type.String(), Type.Any()),
  created_at: Timestamp, sent_at: Nullable(Timestamp), delivered_at: Nullable(Timestamp), read_at: Nullable(Timestamp),
});

const Filters = Type.Object({
  ...PageQuery,
  direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
  status: Type.Optional(Type.Union(['pending', 'sent', 'delivered', 'read', 'failed', 'received'].map((s) => Type.Literal(s)))),
  channel_id: Type.Optional(Id),
  reference_type: Type.Optional(Type.String({ maxLength: 50 })),
  reference_id: Type.Optional(Id),
  customer_id: Type.Optional(Id),
});

type F = { limit?: number; cursor?: string; direction?: string; status?: string; channel_id?: string; reference_type?: string; reference_id?: string; customer_id?: string };

export async function listMessages(ctx: Ctx, q: F) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'm', 8);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(
      `SELECT m.id, m.channel_id, m.direction, m.status, m.from_number, m.to_number, m.message_text, m.message_type,
         m.customer_id, m.reference_type, m.reference_id, m.event_type, m.template_name, m.provider_message_id,
         m.error_code, m.error_message, m.attempts, m.metadata, m.created_at, m.sent_at, m.delivered_at, m.read_at,
         m.created_at::text AS cursor_ts
       FROM social_messages m
       WHERE ($2::text IS NULL OR m.direction = $2) AND ($3::text IS NULL OR m.status = $3)
         AND ($4::uuid IS NULL OR m.channel_id = $4) AND ($5::text IS NULL OR m.reference_type = $5)
         AND ($6::uuid IS NULL OR m.reference_id = $6) AND ($7::uuid IS NULL OR m.customer_id = $7) ${c.sql}
       ORDER BY m.created_at DESC, m.id DESC LIMIT $1`,
      [limit + 1, q.direction ?? null, q.status ?? null, q.channel_id ?? null, q.reference_type ?? null, q.reference_id ?? null,
        q.customer_id ?? null, ...c.params]);
    return page(r.rows as any[], limit);
  });
}

export const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/social/messages', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'Inbound and outbound messages, newest first', querystring: Filters, response: { 200: PageOf(Message) } },
  }, async (req) => listMessages(ctxOf(req), req.query));
};
