// The webhook lane: provider webhooks answered straight from node:http, beside Fastify.
//
// A webhook is the one request that comes by the thousand a second in a burst; Fastify's work per
// request (routing, hooks, a child logger, schema checks, serialisation) was a quarter of the
// api process's CPU per webhook (bench: 163-207 µs against 129-136 µs without it). The lane takes
// only a plain webhook POST — a known channel type, no query string, a JSON or form body with a
// Content-Length within the limit — and answers it as the route would: the same service
// (receiveWebhook), the same problem+json for every error (problemFor), the same request id,
// metrics and request log lines. Anything else, and everything once the app is closing (its 503),
// is Fastify's, by the route in webhooks.routes.ts. The lane sits in the HTTP server Fastify is
// given (serverWithLane, its serverFactory), so it is on every address the app listens on.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { problemFor } from '../../../platform/errors.js';
import { genReqId, type ObserveRequest } from '../../../platform/observability.js';
import { receiveWebhook, WEBHOOK_CHANNEL_TYPES } from './webhooks.service.js';
import { WEBHOOK_BODY_LIMIT } from './webhooks.routes.js';

const PATH = new RegExp(`^/api/v1/social/webhook/(${WEBHOOK_CHANNEL_TYPES.join('|')})$`);
/** The route's name in metrics, as Fastify names it. */
const ROUTE = '/api/v1/social/webhook/:channelType';
const MEDIA_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded']);

export interface WebhookLane {
  /** Takes the request and answers it (true), or leaves it to Fastify (false), before reading a byte of it. */
  take(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests the lane has taken (the tests check it took theirs). */
  taken: number;
}

/** Fastify's server options that a serverFactory must apply itself (Fastify's defaults filled in). */
export interface ServerSettings { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket?: number }

/**
 * An HTTP server that offers each request to the lane (once there is one) and gives Fastify the
 * rest, set up as Fastify sets up its own (fastify/lib/server.js, HTTP/1).
 */
export function serverWithLane(fastify: RequestListener, settings: ServerSettings, lane: () => WebhookLane | undefined): Server {
  const server = createServer(settings.http ?? {}, (req, res) => {
    if (!lane()?.take(req, res)) fastify(req, res);
  });
  server.keepAliveTimeout = settings.keepAliveTimeout;
  server.requestTimeout = settings.requestTimeout;
  server.setTimeout(settings.connectionTimeout);
  if (settings.maxRequestsPerSocket && settings.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
  return server;
}

/** The client's address as Fastify's request.ip gives it: X-Forwarded-For only through a trusted proxy (TRUST_PROXY). */
function clientAddress(trustProxy: boolean | string[]): (req: IncomingMessage) => string | undefined {
  if (!trustProxy) return (req) => req.socket.remoteAddress;
  const trusted = trustProxy === true ? () => true : proxyAddr.compile(trustProxy);
  return (req) => proxyAddr.all(req, trusted).at(-1);
}

export function webhookLane(app: FastifyInstance, observe: ObserveRequest): WebhookLane {
  const ipOf = clientAddress(app.deps.config.trustProxy);
  let closing = false;
  app.addHook('preClose', async () => { closing = true; });
  // The lane's request lines hold only what it puts in them (method, a path without a query string,
  // the client's address, status, time): nothing there to redact, and the redaction's wildcard
  // paths were half the cost of a line (two lines a webhook at `npm start`'s level, info). Errors
  // are logged through the app's logger, redacted.
  const requestLog = app.log.child({}, { redact: { paths: [] } });

  const lane: WebhookLane = {
    taken: 0,
    take(req, res) {
      if (closing || req.method !== 'POST') return false;
      const match = PATH.exec(req.url ?? '');
      if (!match) return false;
      const mediaType = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (!MEDIA_TYPES.has(mediaType)) return false;
      // A body of a known length (chunked bodies, empty or over-long ones get Fastify's answers).
      const declared = req.headers['content-length'];
      if (!declared || !/^\d{1,8}$/.test(declared) || req.headers['transfer-encoding'] !== undefined) return false;
      const length = Number(declared);
      if (length === 0 || length > WEBHOOK_BODY_LIMIT) return false;

      lane.taken++;
      const started = performance.now();
      const reqId = genReqId(req);
      let log: FastifyBaseLogger | undefined;
      const logger = () => (log ??= app.log.child({ reqId }));
      const logRequests = (app.log as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.('info') ?? false;
      const requestLines = logRequests ? requestLog.child({ reqId }) : undefined;
      requestLines?.info({ req: { method: req.method, url: req.url, ip: ipOf(req) } }, 'incoming request');

      const answer = (status: number, type: string, body: string, headers?: Record<string, string>) => {
        res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-request-id': reqId });
        res.end(body);
        const seconds = (performance.now() - started) / 1000;
        observe('POST', ROUTE, status, seconds);
        requestLines?.info({ res: { statusCode: status }, responseTime: seconds * 1000 }, 'request completed');
      };

      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      req.on('error', () => res.destroy());
      req.on('end', () => {
        receiveWebhook(app.deps, {
          channelType: match[1], raw: Buffer.concat(chunks, size), contentType: String(req.headers['content-type']),
          headers: req.headers, url: req.url!, query: {},
        }).then(
          (r) => answer(200, 'application/json; charset=utf-8', JSON.stringify({ received: r.received, duplicates: r.duplicates, statuses: r.statuses })),
          (err) => {
            const p = problemFor(err, logger());
            answer(p.status, 'application/problem+json; charset=utf-8', JSON.stringify(p.body), p.headers);
          },
        );
      });
      return true;
    },
  };
  return lane;
}
