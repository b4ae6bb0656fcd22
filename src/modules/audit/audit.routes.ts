import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, Nullable, PageOf, Timestamp } from '../schemas.js';
import { AUDIT_ENTITY_TYPES, listAudit } from './audit.service.js';

const EntityType = Type.Union(AUDIT_ENTITY_TYPES.map((t) => Type.Literal(t)));

const AuditEntry = Type.Object({
  id: Id,
  created_at: Timestamp,
  user_id: Nullable(Id),
  /** The person's name when they made the change. */
  user_name: Nullable(Type.String()),
  action: Type.String({ examples: ['product.price_changed'] }),
  entity_type: EntityType,
  entity_id: Type.String(),
  summary: Type.String({ examples: ['Asha changed the price of Chocolate cake from ₹650.00 to ₹700.00'] }),
  /** {field: [before, after]}; secrets only as whether they are set. */
  changes: Type.Record(Type.String(), Type.Any()),
});

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/audit', {
    config: { auth: 'business.manage' },
    schema: {
      tags: ['audit'],
      summary: 'Who changed what, newest first: channels, templates, users, prices, cancelled sales',
      querystring: Type.Object({
        ...PageQuery,
        entity_type: Type.Optional(EntityType),
        entity_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        user_id: Type.Optional(Id),
      }),
      response: { 200: PageOf(AuditEntry) },
    },
  }, async (req) => listAudit(ctxOf(req), req.query));
};
