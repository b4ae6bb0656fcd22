import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../schemas.js';
import * as customers from './customers.service.js';

const Customer = Type.Object({
  id: Id,
  name: Type.String(),
  mobile: Type.String({ description: 'E.164, e.g. +919876543210' }),
  email: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  whatsapp_opt_in: Type.Boolean(),
  created_at: Timestamp,
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  mobile: Type.String({ minLength: 3, maxLength: 32, description: 'any common form; stored as E.164' }),
  email: Nullable(Type.String({ format: 'email', maxLength: 254 })),
  locale: Nullable(Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$' })),
  whatsapp_opt_in: Type.Boolean(),
};
const CreateCustomer = Type.Object({
  name: fields.name, mobile: fields.mobile,
  email: Type.Optional(fields.email), locale: Type.Optional(fields.locale), whatsapp_opt_in: Type.Optional(fields.whatsapp_opt_in),
});
const UpdateCustomer = Type.Partial(Type.Object(fields), { minProperties: 1 });

export const customerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/customers', {
    config: { auth: 'customers.write' },
    schema: { tags: ['customers'], summary: 'Add a customer', body: CreateCustomer, response: { 201: Customer } },
  }, async (req, reply) => reply.status(201).send(await customers.createCustomer(ctxOf(req), req.body)));

  app.get('/customers', {
    config: { auth: 'customers.write' },
    schema: { tags: ['customers'], summary: 'List customers', querystring: Type.Object({ ...PageQuery, mobile: Type.Optional(Type.String({ maxLength: 32 })), q: Type.Optional(Type.String({ maxLength: 100 })) }), response: { 200: PageOf(Customer) } },
  }, async (req) => customers.listCustomers(ctxOf(req), req.query));

  app.get('/customers/:id', {
    config: { auth: 'customers.write' },
    schema: { tags: ['customers'], summary: 'One customer', params: IdParams, response: { 200: Customer } },
  }, async (req) => customers.getCustomer(ctxOf(req), req.params.id));

  app.patch('/customers/:id', {
    config: { auth: 'customers.write' },
    schema: { tags: ['customers'], summary: 'Change a customer', params: IdParams, body: UpdateCustomer, response: { 200: Customer } },
  }, async (req) => customers.updateCustomer(ctxOf(req), req.params.id, req.body));
};
