import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../platform/pagination.js';
import { ctxOf } from '../context.js';
import { IdParams, PageOf } from '../schemas.js';
import { Business, ChangePasswordBody, CreateUserBody, LoginBody, RegisterBody, RoleName, Session, UpdateUserBody, User } from './users.schema.js';
import * as users from './users.service.js';

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.deps;

  app.post('/auth/register', {
    config: { auth: 'public' },
    schema: { tags: ['auth'], summary: 'Create a business and its admin', security: [], body: RegisterBody, response: { 201: Session } },
  }, async (req, reply) => reply.status(201).send(await users.registerBusiness(db, config, req.body, req.ip)));

  app.post('/auth/login', {
    config: { auth: 'public' },
    schema: { tags: ['auth'], summary: 'Sign in', security: [], body: LoginBody, response: { 200: Session } },
  }, async (req) => users.login(db, config, req.body.email, req.body.password, req.ip));

  app.get('/me', {
    config: { auth: 'authenticated' },
    schema: { tags: ['auth'], summary: 'Who am I', response: { 200: Type.Object({ user: User, business: Business }) } },
  }, async (req) => users.me(ctxOf(req)));

  app.post('/users', {
    config: { auth: 'business.manage' },
    schema: { tags: ['users'], summary: 'Add a user to the business', body: CreateUserBody, response: { 201: User } },
  }, async (req, reply) => reply.status(201).send(await users.createUser(ctxOf(req), req.body)));

  app.get('/users', {
    config: { auth: 'users.read' },
    schema: { tags: ['users'], summary: 'List users', querystring: Type.Object({ ...PageQuery, role: Type.Optional(RoleName), is_active: Type.Optional(Type.Boolean()) }), response: { 200: PageOf(User) } },
  }, async (req) => users.listUsers(ctxOf(req), req.query));
  app.patch('/users/:id', {
    config: { auth: 'business.manage' },
    schema: { tags: ['users'], summary: 'Rename, change the role of, deactivate or reactivate a user', params: IdParams, body: UpdateUserBody, response: { 200: User } },
  }, async (req) => users.updateUser(ctxOf(req), req.params.id, req.body));

  app.post('/me/password', {
    config: { auth: 'authenticated' },
    schema: { tags: ['auth'], summary: 'Change my password', body: ChangePasswordBody, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    await users.changePassword(ctxOf(req), req.body);
    return reply.status(204).send(null);
  });
};
