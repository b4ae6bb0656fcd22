import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Money, MoneyInput } from '../../platform/money.js';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../schemas.js';
import * as sales from './sales.service.js';

export const Sale = Type.Object({
  id: Id,
  customer_id: Id,
  customer_name: Type.String(),
  status: Type.Union([Type.Literal('draft'), Type.Literal('final')]),
  invoice_no: Nullable(Type.String()),
  items: Type.Array(Type.Object({
    id: Id,
    product_id: Id,
    product_name: Type.String(),
    quantity: Type.Number(),
    unit_price: Money,
    line_total: Money,
  })),
  total: Money,
  amount_paid: Money,
  balance: Money,
  payment_status: Type.Union([Type.Literal('unpaid'), Type.Literal('partial'), Type.Literal('paid')]),
  source: Type.String(),
  notes: Nullable(Type.String()),
  production_order_id: Nullable(Id),
  created_at: Timestamp,
  finalized_at: Nullable(Timestamp),
});

const CreateSale = Type.Object({
  customer_id: Id,
  items: Type.Array(Type.Object({
    product_id: Id,
    quantity: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: 'up to three decimal places' }),
    unit_price: Type.Optional(MoneyInput),
  }), { minItems: 1, maxItems: 200 }),
  notes: Type.Optional(Type.String({ maxLength: 2000 })),
});

const ListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('final')])),
  customer_id: Type.Optional(Id),
  payment_status: Type.Optional(Type.Union([Type.Literal('unpaid'), Type.Literal('partial'), Type.Literal('paid')])),
});

export const salesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/sales', {
    config: { auth: 'sales.write' },
    schema: { tags: ['sales'], summary: 'Create a draft sale', body: CreateSale, response: { 201: Sale } },
  }, async (req, reply) => reply.status(201).send(await sales.createSale(ctxOf(req), req.body)));

  app.get('/sales', {
    config: { auth: 'sales.write' },
    schema: { tags: ['sales'], summary: 'List sales', querystring: ListQuery, response: { 200: PageOf(Sale) } },
  }, async (req) => sales.listSales(ctxOf(req), req.query));

  app.get('/sales/:id', {
    config: { auth: 'sales.write' },
    schema: { tags: ['sales'], summary: 'One sale with its items and balance', params: IdParams, response: { 200: Sale } },
  }, async (req) => sales.getSale(ctxOf(req), req.params.id));

  app.post('/sales/:id/finalize', {
    config: { auth: 'sales.write' },
    schema: { tags: ['sales'], summary: 'Finalize: assign the invoice number and start production', params: IdParams, response: { 200: Sale } },
  }, async (req) => sales.finalizeSale(ctxOf(req), req.params.id));
};
