// Logs, request ids and metrics: pino with secrets redacted, an id on every request (taken from
// X-Request-Id when a proxy set one), Prometheus text at /metrics.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';

export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-twilio-signature"]',
  'req.headers["x-telegram-bot-api-secret-token"]',
  '*.password', '*.password_hash', '*.token', '*.api_key', '*.api_secret', '*.webhook_secret',
  'password', 'password_hash', 'token', 'api_key', 'api_secret', 'webhook_secret',
];

/**
 * A request as logged: method and path, never the query string (a verify token, a search for a
 * customer's number) nor headers or body.
 */
export function requestForLog(req: { method?: string; url?: string; routeOptions?: { url?: string }; ip?: string; id?: string }) {
  const path = String(req.url ?? '').split('?')[0];
  return { method: req.method, url: path.length > 200 ? `${path.slice(0, 200)}…` : path, remoteAddress: req.ip };
}

export function loggerOptions(level: string) {
  return {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { req: requestForLog },
  };
}

export function genReqId(req: { headers: Record<string, unknown> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
}

/**
 * waitingJobs: the queue's backlog by queue name; heldMessages: messages held in a burst and not yet
 * filed (about); both read when /metrics is scraped.
 */
export function registerObservability(app: FastifyInstance, opts: { waitingJobs?: () => Promise<Map<string, number>>; heldMessages?: () => Promise<number | undefined> } = {}) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'karigar_http_requests_total', help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'], registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'karigar_http_request_duration_seconds', help: 'HTTP request duration',
    labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });

  if (opts.waitingJobs) {
    const read = opts.waitingJobs;
    // What the background still has to do: a queue that keeps growing has fallen behind (the inbound
    // step gives way to busy webhooks on purpose, and catches up once they calm down).
    new client.Gauge({
      name: 'karigar_queue_waiting_jobs', help: 'Jobs waiting to be taken, by queue (listener.inbound: batches of inbound messages to read)',
      labelNames: ['queue'], registers: [registry],
      async collect() {
        this.reset();
        // A database that does not answer leaves the gauge empty: /metrics still answers.
        const waiting = await read().catch(() => new Map<string, number>());
        for (const [queue, n] of waiting) this.set({ queue }, n);
      },
    });
  }
  if (opts.heldMessages) {
    const read = opts.heldMessages;
    // In a burst the messages wait here, with one listener.inbound job per business (not one per batch).
    new client.Gauge({
      name: 'karigar_held_messages', help: 'Messages held in a burst of webhooks, not yet filed by the inbound step (from PostgreSQL\'s table statistics: about, and seconds late)',
      registers: [registry],
      async collect() {
        this.reset();
        const n = await read().catch(() => undefined);
        if (n !== undefined) this.set(n);
      },
    });
  }

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  const observe: ObserveRequest = (method, route, status, seconds) => {
    requests.inc({ method, route, status: String(status) });
    duration.observe({ method, route }, seconds);
  };
  app.addHook('onResponse', async (req, reply) => {
    observe(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true }, config: { auth: 'public' } }, async (_req, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return { registry, observe };
}

/** Counts an answered request in the metrics (for answers given outside Fastify's hooks: the webhook lane). */
export type ObserveRequest = (method: string, route: string, status: number, seconds: number) => void;
