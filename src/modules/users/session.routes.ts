// The web console's session: the same signed token as the API's, kept by the browser in an
// httpOnly, SameSite=Strict cookie that scripts cannot read. Bearer tokens keep working as before.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { SESSION_COOKIE, checkSameOrigin } from '../../platform/auth.js';
import { Business, LoginBody, User } from './users.schema.js';
import * as users from './users.service.js';

function setCookie(reply: FastifyReply, value: string, maxAge: number, secure: boolean) {
  reply.header('set-cookie', [
    `${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAge}`, ...(secure ? ['Secure'] : []),
  ].join('; '));
}

export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.deps;
  const secure = config.publicBaseUrl.startsWith('https:');

  app.post('/auth/session', {
    config: { auth: 'public' },
    schema: {
      tags: ['auth'], summary: 'Sign in the web console: the token goes into an httpOnly cookie, not the body', security: [],
      body: LoginBody, response: { 200: Type.Object({ user: User, business: Business }) },
    },
  }, async (req, reply) => {
    checkSameOrigin(req);
    const { token, user, business } = await users.login(db, config, req.body.email, req.body.password, req.ip);
    setCookie(reply, token, config.tokenTtlSeconds, secure);
    return { user, business };
  });

  app.delete('/auth/session', {
    config: { auth: 'public' },
    schema: { tags: ['auth'], summary: 'Sign out of the web console (clears the cookie)', security: [] },
  }, async (req, reply) => {
    checkSameOrigin(req);
    setCookie(reply, '', 0, secure);
    return reply.status(204).send();
  });
};
