import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../../platform/pagination.js';
import { ctxOf } from '../../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../../schemas.js';
import { Message } from '../messages/messages.routes.js';
import * as conversations from './conversations.service.js';

const Conversation = Type.Object({
  id: Id, channel_id: Id, channel_type: Type.String(), address: Type.String(),
  name: Nullable(Type.String()), mobile: Nullable(Type.String()), customer_id: Nullable(Id), lead_id: Nullable(Id),
  last_message: Nullable(Type.Object({
    id: Id, direction: Type.String(), message_text: Nullable(Type.String()), message_type: Type.String(), status: Type.String(),
    created_at: Timestamp, deleted: Type.Boolean(),
  })),
  last_message_at: Nullable(Timestamp), last_inbound_at: Nullable(Timestamp), last_human_reply_at: Nullable(Timestamp),
  unread: Type.Integer(), needs_reply: Type.Boolean(),
  window: Type.Object({
    rule: Type.Union([Type.Literal('whatsapp_24h'), Type.Literal('messenger_24h'), Type.Literal('none')]),
    open: Type.Boolean(), closes_at: Nullable(Timestamp),
  }, { description: 'When free text may be sent: WhatsApp and Messenger only within 24 hours of the customer\'s last message' }),
  templates: Type.Array(Type.Object({ event: Type.String(), name: Type.String(), language: Type.String(), params: Type.Array(Type.String()) }),
    { description: 'Approved WhatsApp templates mapped in the channel\'s settings, for replies outside the window' }),
  created_at: Timestamp,
});

const Filters = Type.Object({
  ...PageQuery,
  needs_reply: Type.Optional(Type.Boolean()),
  channel_id: Type.Optional(Id),
  customer_id: Type.Optional(Id),
  q: Type.Optional(Type.String({ maxLength: 100, description: 'part of a name or a number' })),
});

// One object (not a union: the body validator strips unknown fields branch by branch): free text,
// or an approved template with its parameters (and, optionally, the text the shop sees for it).
const Reply = Type.Object({
  text: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  template: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'an approved template mapped in the channel settings: its name or its event' })),
  params: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ minLength: 1, maxLength: 1024 }))),
}, { minProperties: 1 });

export const conversationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/social/conversations', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'Conversations, newest activity first', querystring: Filters, response: { 200: PageOf(Conversation) } },
  }, async (req) => conversations.listConversations(ctxOf(req), req.query));

  app.get('/social/conversations/:id', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'One conversation', params: IdParams, response: { 200: Conversation } },
  }, async (req) => conversations.getConversation(ctxOf(req), req.params.id));

  app.get('/social/conversations/:id/messages', {
    config: { auth: 'social.read' },
    schema: {
      tags: ['social'], summary: 'Both directions, oldest first; next_cursor pages back in time', params: IdParams,
      querystring: Type.Object(PageQuery), response: { 200: PageOf(Message) },
    },
  }, async (req) => conversations.conversationMessages(ctxOf(req), req.params.id, req.query));

  app.post('/social/conversations/:id/messages', {
    config: { auth: 'social.reply' },
    schema: {
      tags: ['social'], summary: 'Reply: free text inside the reply window, or an approved template', params: IdParams,
      body: Reply, response: { 201: Message },
    },
  }, async (req, reply) => reply.status(201).send(await conversations.reply(ctxOf(req), req.params.id, req.body)));

  app.post('/social/conversations/:id/read', {
    config: { auth: 'social.reply' },
    schema: { tags: ['social'], summary: 'Mark every message read', params: IdParams, response: { 200: Conversation } },
  }, async (req) => conversations.markRead(ctxOf(req), req.params.id));

  app.post('/social/conversations/:id/link', {
    config: { auth: 'social.reply' },
    schema: {
      tags: ['social'], summary: 'Link the conversation to a customer: one of their contacts', params: IdParams,
      body: Type.Object({ customer_id: Id }), response: { 200: Conversation },
    },
  }, async (req) => conversations.linkToCustomer(ctxOf(req), req.params.id, req.body.customer_id));
};
