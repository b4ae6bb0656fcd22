import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Money, MoneyInput } from '../../platform/money.js';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../schemas.js';
import * as production from './production.service.js';

const StepStatus = Type.Union([Type.Literal('pending'), Type.Literal('in_progress'), Type.Literal('completed')]);
const Step = Type.Object({
  id: Id,
  name: Type.String(),
  sequence: Type.Integer(),
  status: StepStatus,
  assigned_worker_id: Nullable(Id),
  assigned_worker_name: Nullable(Type.String()),
  product_name: Type.String(),
  quantity: Type.Number(),
  started_at: Nullable(Timestamp),
  completed_at: Nullable(Timestamp),
});
const OrderStatus = Type.Union(['pending', 'in_progress', 'completed', 'ready', 'cancelled'].map((s) => Type.Literal(s)));
const Fulfilment = Type.Union([Type.Literal('pickup'), Type.Literal('delivery')]);
// Days are the business's own (its time zone); cancelled orders are never due, ready ones never overdue.
const DueFilter = Type.Optional(Type.Union(['today', 'tomorrow', 'overdue'].map((s) => Type.Literal(s)), {
  description: "due today or tomorrow in the business's time zone, or overdue (past due and not ready)",
}));
const ProductionOrder = Type.Object({
  id: Id,
  order_no: Type.String(),
  sale_id: Id,
  invoice_no: Nullable(Type.String()),
  customer_id: Id,
  customer_name: Type.String(),
  status: OrderStatus,
  steps: Type.Array(Step),
  total_cost: Money,
  sale_total: Money,
  margin: Money,
  due_at: Nullable(Timestamp),
  fulfilment: Fulfilment,
  delivery_address: Nullable(Type.String()),
  created_at: Timestamp,
  completed_at: Nullable(Timestamp),
  ready_at: Nullable(Timestamp),
  cancelled_at: Nullable(Timestamp),
});
// What a worker sees of a step: what to make and for which order, never money or the customer.
const WorkerStep = Type.Intersect([
  Type.Omit(Step, []),
  Type.Object({ production_order_id: Id, order_no: Type.String(), order_status: OrderStatus, due_at: Nullable(Timestamp), fulfilment: Fulfilment }),
]);
const Expense = Type.Object({
  id: Id,
  production_order_id: Id,
  category: Type.String(),
  amount: Money,
  description: Nullable(Type.String()),
  created_at: Timestamp,
});
const StepParams = Type.Object({ id: Id, step_id: Id });
const WorkerStepParams = Type.Object({ step_id: Id });

export const productionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/production-orders', {
    config: { auth: 'production.read' },
    schema: {
      tags: ['production'], summary: 'List production orders, soonest due first (no due date last)',
      querystring: Type.Object({ ...PageQuery, status: Type.Optional(OrderStatus), sale_id: Type.Optional(Id), due: DueFilter }),
      response: { 200: PageOf(ProductionOrder) },
    },
  }, async (req) => production.listOrders(ctxOf(req), req.query));

  app.get('/production-orders/:id', {
    config: { auth: 'production.read' },
    schema: { tags: ['production'], summary: 'One production order with its steps and cost', params: IdParams, response: { 200: ProductionOrder } },
  }, async (req) => production.getOrder(ctxOf(req), req.params.id));

  app.post('/production-orders/:id/steps/:step_id/assign', {
    config: { auth: 'production.manage' },
    schema: { tags: ['production'], summary: 'Assign a step to a worker', params: StepParams, body: Type.Object({ worker_id: Id }), response: { 200: ProductionOrder } },
  }, async (req) => production.assignStep(ctxOf(req), req.params.id, req.params.step_id, req.body.worker_id));

  app.post('/production-orders/:id/ready', {
    config: { auth: 'production.manage' },
    schema: { tags: ['production'], summary: 'Mark a completed order ready for delivery', params: IdParams, response: { 200: ProductionOrder } },
  }, async (req) => production.markReady(ctxOf(req), req.params.id));

  app.post('/production-orders/:id/expenses', {
    config: { auth: 'production.manage' },
    schema: {
      tags: ['production'], summary: 'Record a cost against the order', params: IdParams,
      body: Type.Object({
        category: Type.Union([Type.Literal('material'), Type.Literal('labor'), Type.Literal('overhead')]),
        amount: MoneyInput,
        description: Type.Optional(Type.String({ maxLength: 1000 })),
      }),
      response: { 201: Type.Object({ expense: Expense, production_order: ProductionOrder }) },
    },
  }, async (req, reply) => reply.status(201).send(await production.addExpense(ctxOf(req), req.params.id, req.body)));

  app.get('/production-orders/:id/expenses', {
    config: { auth: 'production.manage' },
    schema: { tags: ['production'], summary: 'The order\'s expenses', params: IdParams, response: { 200: PageOf(Expense) } },
  }, async (req) => production.listExpenses(ctxOf(req), req.params.id));

  app.get('/worker/steps', {
    config: { auth: 'production.work' },
    schema: {
      tags: ['worker'], summary: 'The steps assigned to me (open ones by default), soonest due first; none of cancelled orders',
      querystring: Type.Object({ ...PageQuery, status: Type.Optional(Type.Union(['open', 'all', 'pending', 'in_progress', 'completed'].map((s) => Type.Literal(s)))), due: DueFilter }),
      response: { 200: PageOf(WorkerStep) },
    },
  }, async (req) => production.listWorkerSteps(ctxOf(req), req.query));

  app.post('/worker/steps/:step_id/start', {
    config: { auth: 'production.work' },
    schema: { tags: ['worker'], summary: 'Start my step', params: WorkerStepParams, response: { 200: WorkerStep } },
  }, async (req) => production.startStep(ctxOf(req), req.params.step_id));

  app.post('/worker/steps/:step_id/complete', {
    config: { auth: 'production.work' },
    schema: { tags: ['worker'], summary: 'Complete my step', params: WorkerStepParams, response: { 200: WorkerStep } },
  }, async (req) => production.completeStep(ctxOf(req), req.params.step_id));
};
