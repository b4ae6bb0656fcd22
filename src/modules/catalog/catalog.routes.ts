import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Money, MoneyInput } from '../../platform/money.js';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../schemas.js';
import * as catalog from './catalog.service.js';

const Product = Type.Object({
  id: Id,
  name: Type.String(),
  sku: Nullable(Type.String()),
  price: Money,
  production_steps: Type.Array(Type.String()),
  archived: Type.Boolean(),
  archived_at: Nullable(Timestamp),
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, description: 'unique among active products, ignoring case and spaces' }),
  sku: Type.String({ minLength: 1, maxLength: 64 }),
  price: MoneyInput,
  production_steps: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 }),
};
const CreateProduct = Type.Object({
  name: fields.name,
  sku: Type.Optional(fields.sku),
  price: fields.price,
  production_steps: Type.Optional(fields.production_steps),
});
const UpdateProduct = Type.Object({
  name: Type.Optional(fields.name),
  sku: Type.Optional(Nullable(fields.sku)),
  price: Type.Optional(fields.price),
  production_steps: Type.Optional(fields.production_steps),
}, { minProperties: 1 });

export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/products', {
    config: { auth: 'catalog.write' },
    schema: { tags: ['catalog'], summary: 'Add a product', body: CreateProduct, response: { 201: Product } },
  }, async (req, reply) => reply.status(201).send(await catalog.createProduct(ctxOf(req), req.body)));

  app.get('/products', {
    config: { auth: 'catalog.read' },
    schema: {
      tags: ['catalog'], summary: 'List products (active ones unless include_archived=true)',
      querystring: Type.Object({ ...PageQuery, q: Type.Optional(Type.String({ maxLength: 100 })), include_archived: Type.Optional(Type.Boolean()) }),
      response: { 200: PageOf(Product) },
    },
  }, async (req) => catalog.listProducts(ctxOf(req), req.query));

  app.get('/products/:id', {
    config: { auth: 'catalog.read' },
    schema: { tags: ['catalog'], summary: 'One product, archived or not', params: IdParams, response: { 200: Product } },
  }, async (req) => catalog.getProduct(ctxOf(req), req.params.id));

  app.patch('/products/:id', {
    config: { auth: 'catalog.write' },
    schema: { tags: ['catalog'], summary: 'Change a product (new steps apply to orders created from now on)', params: IdParams, body: UpdateProduct, response: { 200: Product } },
  }, async (req) => catalog.updateProduct(ctxOf(req), req.params.id, req.body));

  app.delete('/products/:id', {
    config: { auth: 'catalog.write' },
    schema: { tags: ['catalog'], summary: 'Archive a product: no longer offered, kept on old sales', params: IdParams, response: { 200: Product } },
  }, async (req) => catalog.archiveProduct(ctxOf(req), req.params.id));
};
