import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../schemas.js';
import * as leads from './leads.service.js';

const Status = Type.Unsafe<string>({ type: 'string', enum: [...leads.LEAD_STATUSES] });
const Lead = Type.Object({
  id: Id, name: Nullable(Type.String()), mobile: Nullable(Type.String()), email: Nullable(Type.String()),
  source: Type.String(), status: Status, customer_id: Nullable(Id), sale_id: Nullable(Id), channel_id: Nullable(Id),
  notes: Nullable(Type.String()), metadata: Type.Record(Type.String(), Type.Any()), created_at: Timestamp, updated_at: Timestamp,
});
const Customer = Type.Object({
  id: Id, name: Type.String(), mobile: Type.String(), email: Nullable(Type.String()), locale: Nullable(Type.String()),
  whatsapp_opt_in: Type.Boolean(), created_at: Timestamp,
});

export const leadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/leads', {
    config: { auth: 'leads.manage' },
    schema: { tags: ['leads'], summary: 'Leads from conversations, newest first', querystring: Type.Object({ ...PageQuery, status: Type.Optional(Status), source: Type.Optional(Type.String({ maxLength: 32 })) }), response: { 200: PageOf(Lead) } },
  }, async (req) => leads.listLeads(ctxOf(req), req.query as any));

  app.get('/leads/:id', {
    config: { auth: 'leads.manage' },
    schema: { tags: ['leads'], summary: 'One lead', params: IdParams, response: { 200: Lead } },
  }, async (req) => leads.getLead(ctxOf(req), req.params.id));

  app.patch('/leads/:id', {
    config: { auth: 'leads.manage' },
    schema: {
      tags: ['leads'], summary: 'Work a lead: status, notes, name, email', params: IdParams,
      body: Type.Object({
        status: Type.Optional(Status), notes: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
        name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))), email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
      }, { minProperties: 1 }),
      response: { 200: Lead },
    },
  }, async (req) => leads.updateLead(ctxOf(req), req.params.id, req.body as any));

  app.post('/leads/:id/convert', {
    config: { auth: 'leads.manage' },
    // The body is optional: the lead's own name and mobile are used by default.
    preValidation: async (req) => { req.body ??= {}; },
    schema: {
      tags: ['leads'], summary: 'Make the lead a customer (or link the customer with its mobile)', params: IdParams,
      body: Type.Object({
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), mobile: Type.Optional(Type.String({ maxLength: 32 })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
      }),
      response: { 200: Type.Object({ lead: Lead, customer: Customer }) },
    },
  }, async (req) => leads.convertLead(ctxOf(req), req.params.id, (req.body ?? {}) as any));
};
