// buildApp(deps): the whole HTTP service as a Fastify instance, without listen(). Tests call it
// directly; server.ts adds the port.
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsPlugin as any).default ?? addFormatsPlugin) as (ajv: Ajv) => Ajv;
import type { Config } from './config.js';
import type { Database } from './platform/db.js';
import { frameworkErrors, registerErrorHandling, rejectUnstorableText } from './platform/errors.js';
import { registerAuth } from './platform/auth.js';
import { genReqId, loggerOptions, registerObservability } from './platform/observability.js';
import { waitingJobs } from './platform/queue.js';
import { pendingMigrations } from './platform/migrations.js';
import { authRoutes } from './modules/users/users.routes.js';
import { catalogRoutes } from './modules/catalog/catalog.routes.js';
import { customerRoutes } from './modules/customers/customers.routes.js';
import { salesRoutes } from './modules/sales/sales.routes.js';
import { productionRoutes } from './modules/production/production.routes.js';
import { paymentRoutes } from './modules/payments/payments.routes.js';
import { channelRoutes } from './modules/social/channels/channels.routes.js';
import { templateRoutes } from './modules/social/templates/templates.routes.js';
import { messageRoutes } from './modules/social/messages/messages.routes.js';
import { serverWithLane, webhookLane, type ServerSettings, type WebhookLane } from './modules/social/webhooks/webhooks.lane.js';
import { webhookRoutes } from './modules/social/webhooks/webhooks.routes.js';
import { heldMessages } from './modules/social/webhooks/webhooks.ingest.js';
import { leadRoutes } from './modules/leads/leads.routes.js';
import { conversationRoutes } from './modules/social/conversations/conversations.routes.js';
import { streamRoutes } from './modules/social/conversations/stream.routes.js';
import { sessionRoutes } from './modules/users/session.routes.js';
import { registerConsole } from './platform/console.js';
import { auditRoutes } from './modules/audit/audit.routes.js';

export interface AppDeps {
  config: Config;
  db: Database;
  /** Pass false to silence request logs (tests). */
  logger?: boolean;
  /** Where logs go (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** The built web console (default web/dist). */
  consoleDir?: string;
}

export type App = FastifyInstance;

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    webhookLane: WebhookLane;
  }
}

function makeAjv(coerceTypes: boolean | 'array') {
  // Bodies are strict (true is not 1); query strings and path params are text and are coerced.
  const ajv = new Ajv({ coerceTypes, removeAdditional: true, useDefaults: true, allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  let lane: WebhookLane | undefined;
  const app = Fastify({
    logger: deps.logger === false ? false : { ...loggerOptions(deps.config.logLevel), ...(deps.logStream ? { stream: deps.logStream } : {}) },
    genReqId,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Behind a reverse proxy the client's address is in X-Forwarded-For, believed only when told to.
    trustProxy: deps.config.trustProxy,
    // Bad percent-escapes, invalid UTF-8 and over-long path segments answer problem+json too.
    frameworkErrors,
    // Every server Fastify listens on (one per address) offers plain webhooks to the lane first
    // (webhooks.lane.ts); every other request, and any webhook the lane leaves, is Fastify's.
    serverFactory: (handler, opts) => serverWithLane(handler, opts as unknown as ServerSettings, () => lane),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object) as any,
  );

  // The API speaks JSON only: anything else is 415, not a body parsed as text.
  app.removeContentTypeParser('text/plain');
  app.decorate('deps', deps);
  registerErrorHandling(app);
  rejectUnstorableText(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Karigar API', version: '0.1.0', description: 'Order-to-production backend for made-to-order businesses.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const { observe } = registerObservability(app, { waitingJobs: () => waitingJobs(deps.db), heldMessages: () => heldMessages(deps.db) });
  registerAuth(app, deps.config.jwtSecret, deps.config.jwtPreviousSecret);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.db.query('SELECT 1');
      const pending = await pendingMigrations(deps.db);
      if (pending.length) return reply.status(503).send({ status: 'migrations pending', pending });
      return { status: 'ready', database: deps.db.kind };
    } catch (err) {
      return reply.status(503).send({ status: 'database unreachable' });
    }
  });

  await app.register(
    async (api) => {
      await api.register(authRoutes);
      await api.register(sessionRoutes);
      await api.register(catalogRoutes);
      await api.register(customerRoutes);
      await api.register(salesRoutes);
      await api.register(productionRoutes);
      await api.register(paymentRoutes);
      await api.register(channelRoutes);
      await api.register(templateRoutes);
      await api.register(messageRoutes);
      await api.register(leadRoutes);
      await api.register(conversationRoutes);
      await api.register(streamRoutes);
      await api.register(webhookRoutes);
      await api.register(auditRoutes);
    },
    { prefix: '/api/v1' },
  );
  await registerConsole(app, deps.consoleDir);

  lane = webhookLane(app, observe);
  app.decorate('webhookLane', lane);

  return app;
}
