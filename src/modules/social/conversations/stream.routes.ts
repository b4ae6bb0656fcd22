// GET /social/stream: server-sent events for the console's inbox. Every second the stream looks for
// messages and conversations of the business changed since it last looked, and sends
//   event: message       data: {id, conversation_id, direction, status}
//   event: conversation  data: {id}
// Changes are found by updated_at, with a few seconds of overlap (a transaction that started
// earlier may commit later) and a memory of what was already sent, so nothing is missed or repeated.
// Any process can serve it: the database is the source, not this process's memory.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ctxOf } from '../../context.js';
import { withTenant } from '../../../platform/tenancy.js';
import { safeErrorFields } from '../../../platform/errors.js';

const POLL_MS = 1000;
const OVERLAP = '10 seconds';
const KEEPALIVE_MS = 15_000;

export const streamRoutes: FastifyPluginAsync = async (app) => {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const res of open) res.end();
    done();
  });

  app.get('/social/stream', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'Live changes to messages and conversations (text/event-stream)' },
  }, async (req, reply) => {
    const ctx = ctxOf(req);
    const businessId = ctx.principal.businessId;
    let since: string = (await withTenant(ctx.db, businessId, (tx) => tx.query(`SELECT now()::text AS t`))).rows[0].t;
    const sent = new Map<string, string>(); // key -> the updated_at it was sent for

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: pass events through at once
    });
    res.write('retry: 3000\n\n');
    open.add(res);

    let busy = false;
    let lastWrite = Date.now();
    const send = (event: string, data: object) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      lastWrite = Date.now();
    };
    const poll = async () => {
      if (busy || res.writableEnded) return;
      busy = true;
      try {
        const r = await withTenant(ctx.db, businessId, async (tx) => ({
          now: (await tx.query(`SELECT now()::text AS t`)).rows[0].t as string,
          messages: (await tx.query(
            `SELECT id, conversation_id, direction, status, updated_at::text AS at FROM social_messages
             WHERE updated_at > $1::timestamptz - interval '${OVERLAP}' ORDER BY updated_at, id LIMIT 500`, [since])).rows,
          conversations: (await tx.query(
            `SELECT id, updated_at::text AS at FROM conversations
             WHERE updated_at > $1::timestamptz - interval '${OVERLAP}' ORDER BY updated_at, id LIMIT 500`, [since])).rows,
        }));
        const touched = new Set<string>();
        for (const m of r.messages) {
          const key = `m:${m.id}`;
          if (sent.get(key) === `${m.at}|${m.status}`) continue;
          sent.set(key, `${m.at}|${m.status}`);
          send('message', { id: m.id, conversation_id: m.conversation_id, direction: m.direction, status: m.status });
          if (m.conversation_id) touched.add(m.conversation_id);
        }
        for (const c of r.conversations) {
          const key = `c:${c.id}`;
          if (sent.get(key) === c.at) continue;
          sent.set(key, c.at);
          touched.add(c.id);
        }
        for (const id of touched) send('conversation', { id });
        // Forget what has left the overlap window.
        if (sent.size > 5000) sent.clear();
        since = r.now;
        if (Date.now() - lastWrite > KEEPALIVE_MS) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      } catch (err) {
        req.log.warn(safeErrorFields(err), 'event stream poll failed');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void poll(), POLL_MS);
    const stop = () => {
      clearInterval(timer);
      open.delete(res);
    };
    req.raw.on('close', stop);
    res.on('close', stop);
  });
};
