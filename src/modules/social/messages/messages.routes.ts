import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../../platform/pagination.js';
import { ctxOf } from '../../context.js';
import { listMessages } from './messages.service.js';
import { Id, Nullable, PageOf, Timestamp } from '../../schemas.js';

export const Message = Type.Object({
  id: Id, channel_id: Id, conversation_id: Nullable(Id),
  direction: Type.String(), status: Type.String(),
  from_number: Nullable(Type.String()), to_number: Nullable(Type.String()),
  message_text: Nullable(Type.String()), message_type: Type.String(),
  customer_id: Nullable(Id), reference_type: Nullable(Type.String()), reference_id: Nullable(Id),
  event_type: Nullable(Type.String()), template_name: Nullable(Type.String()),
  provider_message_id: Nullable(Type.String()), error_code: Nullable(Type.String()), error_message: Nullable(Type.String()),
  attempts: Type.Integer(), metadata: Type.Record(Type.String(), Type.Any()),
  created_at: Timestamp, sent_at: Nullable(Timestamp), delivered_at: Nullable(Timestamp), read_at: Nullable(Timestamp),
  automatic: Type.Boolean({ description: 'an outbound message nobody wrote: a notification or an acknowledgement' }),
  sent_by: Nullable(Type.Object({ id: Id, name: Type.String() })),
  deleted: Type.Boolean({ description: 'the customer deleted it (WhatsApp revoke, Messenger/Instagram unsend)' }),
  edited: Type.Boolean(),
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

export const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/social/messages', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'Inbound and outbound messages, newest first', querystring: Filters, response: { 200: PageOf(Message) } },
  }, async (req) => listMessages(ctxOf(req), req.query));
};
