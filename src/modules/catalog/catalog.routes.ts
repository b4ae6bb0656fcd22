import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Money, MoneyInput } from '../../platform/money.js';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf } from '../schemas.js';
import * as catalog from './catalog.service.js';

const Product = Type.Object({
  id: Id,
  name: Type.String(),
  sku: Nullable(Type.String()),
  price: Money,
  production_steps: Type.Array(Type.String()),
});

const CreateProduct = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  sku: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  price: MoneyInput,
  production_steps: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 })),
});

export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/products', {
    config: { auth: 'catalog.write' },
    schema: { tags: ['catalog'], summary: 'Add a product', body: CreateProduct, response: { 201: Product } },
  }, async (req, reply) => reply.status(201).send(await catalog.createProduct(ctxOf(req), req.body)));

  app.get('/products', {
    config: { auth: 'catalog.read' },
    schema: { tags: ['catalog'], summary: 'List products', querystring: Type.Object({ ...PageQuery, q: Type.Optional(Type.String({ maxLength: 100 })) }), response: { 200: PageOf(Product) } },
  }, async (req) => catalog.listProducts(ctxOf(req), req.query));

  app.get('/products/:id', {
    config: { auth: 'catalog.read' },
    schema: { tags: ['catalog'], summary: 'One product', params: IdParams, response: { 200: Product } },
  }, async (req) => catalog.getProduct(ctxOf(req), req.params.id));
};
