// The web console (web/, built by Vite into web/dist) served at `/` by the same service. Built
// files are served as they are (hashed assets cached for a year); any other page path that is not
// the API or the docs answers index.html, so a reload on /orders opens the console at that screen.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendProblem } from './errors.js';

export const CONSOLE_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));
/** Fastify's default maxParamLength: the longest path segment a route parameter takes. */
const MAX_PARAM_LENGTH = 100;

// Scripts and styles only from our own origin: the console has no inline script.
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
  "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

function pageHeaders(reply: FastifyReply) {
  reply.header('content-security-policy', CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
  reply.header('cache-control', 'no-cache');
}

export async function registerConsole(app: FastifyInstance, dir = CONSOLE_DIR) {
  if (!existsSync(join(dir, 'index.html'))) {
    app.get('/', { schema: { hide: true }, config: { auth: 'public' } }, (_req, reply) =>
      sendProblem(reply, 503, 'console_not_built', 'The web console is not built: run `npm run build:web` (npm start does it when web/dist is missing)'));
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false, // one route per built file; the catch-all below is the SPA fallback
    index: false,
    cacheControl: false,
    setHeaders(reply, path) {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const page = (_req: unknown, reply: FastifyReply) => {
    pageHeaders(reply);
    return reply.sendFile('index.html');
  };
  app.get('/', { schema: { hide: true }, config: { auth: 'public' } }, page);
  // auth 'public': a GET of an unknown /api path lands here and must reach the API's own 404.
  app.get('/*', { schema: { hide: true }, config: { auth: 'public' } }, (req, reply) => {
    const path = req.url.split('?')[0];
    // The API and the docs keep their own 404s; a missing file (it has an extension) is a 404 too.
    if (path === '/api' || path.startsWith('/api/') || path.startsWith('/docs') || /\.[a-z0-9]+$/i.test(path)) {
      // An API path only lands here when no API route matched; one whose segment is longer than
      // the router takes is 414, as it is without the console.
      if (path.split('/').some((segment) => segment.length > MAX_PARAM_LENGTH)) {
        return sendProblem(reply, 414, 'uri_too_long', 'A segment of the URL is too long');
      }
      return reply.callNotFound();
    }
    return page(req, reply);
  });
}
