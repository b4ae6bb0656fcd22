import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Money, MoneyInput } from '../../platform/money.js';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../schemas.js';
import * as sales from './sales.service.js';

const Fulfilment = Type.Union([Type.Literal('pickup'), Type.Literal('delivery')]);

export const Sale = Type.Object({
  id: Id,
  customer_id: Id,
  customer_name: Type.String(),
  status: Type.Union([Type.Literal('draft'), Type.Literal('final'), Type.Literal('cancelled')]),
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
  due_at: Nullable(Timestamp),
  fulfilment: Fulfilment,
  delivery_address: Nullable(Type.String()),
  production_order_id: Nullable(Id),
  created_at: Timestamp,
  finalized_at: Nullable(Timestamp),
  cancelled_at: Nullable(Timestamp),
});

const ItemsInput = Type.Array(Type.Object({
  product_id: Id,
  quantity: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: 'up to three decimal places' }),
  unit_price: Type.Optional(MoneyInput),
}), { minItems: 1, maxItems: 200 });

// When and how the customer gets the order. due_at needs its offset (…Z or +05:30): a bare local
// time would be a guess.
const dueFields = {
  due_at: Nullable(Type.String({ format: 'date-time', description: 'ISO 8601 with offset, e.g. 2026-12-24T17:00:00+05:30' })),
  fulfilment: Fulfilment,
  delivery_address: Nullable(Type.String({ minLength: 1, maxLength: 1000, description: 'required for delivery' })),
};

const CreateSale = Type.Object({
  customer_id: Id,
  items: ItemsInput,
  notes: Type.Optional(Type.String({ maxLength: 2000 })),
  due_at: Type.Optional(dueFields.due_at),
  fulfilment: Type.Optional(dueFields.fulfilment),
  delivery_address: Type.Optional(dueFields.delivery_address),
});

const UpdateSale = Type.Object({
  items: Type.Optional(ItemsInput),
  notes: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  due_at: Type.Optional(dueFields.due_at),
  fulfilment: Type.Optional(dueFields.fulfilment),
  delivery_address: Type.Optional(dueFields.delivery_address),
}, { minProperties: 1 });

const ListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('final'), Type.Literal('cancelled')])),
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

  app.patch('/sales/:id', {
    config: { auth: 'sales.write' },
    schema: { tags: ['sales'], summary: 'Change a draft: items (the whole list), notes, due date, fulfilment', params: IdParams, body: UpdateSale, response: { 200: Sale } },
  }, async (req) => sales.updateDraftSale(ctxOf(req), req.params.id, req.body));

  app.post('/sales/:id/cancel', {
    config: { auth: 'sales.write' },
    schema: { tags: ['sales'], summary: 'Cancel a draft, or a final sale with no payments (its production order too)', params: IdParams, response: { 200: Sale } },
  }, async (req) => sales.cancelSale(ctxOf(req), req.params.id));
};
