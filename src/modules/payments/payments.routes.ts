import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Money, MoneyInput } from '../../platform/money.js';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../schemas.js';
import * as payments from './payments.service.js';

const Payment = Type.Object({
  id: Id,
  sale_id: Id,
  amount: Money,
  method: Type.String(),
  reference: Nullable(Type.String()),
  received_at: Timestamp,
});
const PaymentWithSale = Type.Intersect([Payment, Type.Object({
  sale: Type.Object({ id: Id, invoice_no: Nullable(Type.String()), total: Money, amount_paid: Money, balance: Money,
    payment_status: Type.String() }),
})]);

export const paymentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/payments', {
    config: { auth: 'payments.write' },
    schema: {
      tags: ['payments'], summary: 'Record a payment against a final sale',
      body: Type.Object({
        sale_id: Id,
        amount: MoneyInput,
        method: Type.Union(['cash', 'upi', 'card', 'bank'].map((m) => Type.Literal(m))),
        reference: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: { 201: PaymentWithSale },
    },
  }, async (req, reply) => reply.status(201).send(await payments.recordPayment(ctxOf(req), req.body)));

  app.get('/payments', {
    config: { auth: 'payments.write' },
    schema: { tags: ['payments'], summary: 'List payments', querystring: Type.Object({ ...PageQuery, sale_id: Type.Optional(Id) }), response: { 200: PageOf(Payment) } },
  }, async (req) => payments.listPayments(ctxOf(req), req.query));

  app.get('/payments/:id', {
    config: { auth: 'payments.write' },
    schema: { tags: ['payments'], summary: 'One payment', params: IdParams, response: { 200: Payment } },
  }, async (req) => payments.getPayment(ctxOf(req), req.params.id));
};
