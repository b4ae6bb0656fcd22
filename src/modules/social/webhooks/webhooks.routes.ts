// The webhook endpoints keep the request's raw bytes (signatures are over exactly those bytes),
// accept up to 3 MB (Meta's largest batch) and need no bearer token: the signature is the auth.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { receiveWebhook, verifyHandshake } from './webhooks.service.js';
import { sendProblem } from '../../../platform/errors.js';

export const WEBHOOK_BODY_LIMIT = 3 * 1024 * 1024;
const keepBytes = (_req: unknown, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body);

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, keepBytes);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, keepBytes);

  const Params = Type.Object({ channelType: Type.String({ maxLength: 32 }) });
  const Query = Type.Object({ channel_id: Type.Optional(Type.String({ format: 'uuid' })), business_id: Type.Optional(Type.String({ format: 'uuid' })) },
    { additionalProperties: true });

  app.post('/social/webhook/:channelType', {
    bodyLimit: WEBHOOK_BODY_LIMIT,
    config: { auth: 'public' },
    schema: {
      tags: ['webhooks'], summary: 'Provider webhook (Meta WhatsApp Cloud, Twilio, Messenger, Instagram, Telegram)', security: [],
      params: Params, querystring: Query,
      response: { 200: Type.Object({ received: Type.Integer(), duplicates: Type.Integer(), statuses: Type.Integer() }) },
    },
  }, async (req, reply) => {
    if (!Buffer.isBuffer(req.body)) return sendProblem(reply, 400, 'empty_body', 'The webhook body is empty');
    return receiveWebhook(app.deps, {
      channelType: req.params.channelType,
      raw: req.body,
      contentType: String(req.headers['content-type'] ?? ''),
      headers: req.headers,
      url: req.url,
      query: req.query as { channel_id?: string; business_id?: string },
    });
  });

  app.get('/social/webhook/:channelType', {
    config: { auth: 'public' },
    schema: { tags: ['webhooks'], summary: 'Meta verification handshake (hub.mode, hub.verify_token, hub.challenge)', security: [], params: Params },
  }, async (req, reply) => {
    const challenge = await verifyHandshake(app.deps.db, req.params.channelType, req.query as Record<string, string>);
    if (challenge === undefined) return sendProblem(reply, 403, 'forbidden', 'Verification token does not match an active channel');
    return reply.type('text/plain').send(challenge);
  });
};
