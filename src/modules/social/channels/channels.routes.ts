import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ctxOf } from '../../context.js';
import { Id, IdParams, Nullable, PageOf, Timestamp } from '../../schemas.js';
import * as channels from './channels.service.js';
import { PROVIDER_NAMES } from '../providers/provider.js';

const ChannelType = Type.Union(channels.CHANNEL_TYPES.map((t) => Type.Literal(t)));
const Settings = Type.Object({
  provider: Type.Optional(Type.Union(PROVIDER_NAMES.map((p) => Type.Literal(p)))),
  notifications: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
  templates: Type.Optional(Type.Record(Type.String(), Type.Object({
    name: Type.String(), language: Type.String(), params: Type.Optional(Type.Array(Type.String())),
  }))),
  verify_token: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  max_per_second: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  default: Type.Optional(Type.Boolean({ description: 'the WhatsApp channel notifications use when the customer has not written on one' })),
}, { additionalProperties: true });

const Channel = Type.Object({
  id: Id,
  channel_type: ChannelType,
  phone_number: Nullable(Type.String()),
  account_id: Nullable(Type.String()),
  is_active: Type.Boolean(),
  settings: Type.Record(Type.String(), Type.Any()),
  provider: Type.Union(PROVIDER_NAMES.map((p) => Type.Literal(p))),
  status: Type.Union([Type.Literal('active'), Type.Literal('needs_attention'), Type.Literal('incomplete')]),
  status_reason: Nullable(Type.String()),
  /** The URL to paste into the provider's dashboard. */
  webhook_url: Type.String(),
  /** Meta's handshake token: present for those who manage the business only. */
  verify_token: Type.Optional(Nullable(Type.String())),
  has_api_key: Type.Boolean(),
  has_api_secret: Type.Boolean(),
  has_webhook_secret: Type.Boolean(),
  /** What the provider reported at the last check (WhatsApp: display_phone_number, verified_name, quality_rating). */
  provider_info: Nullable(Type.Record(Type.String(), Type.Any())),
  checked_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Secret = Nullable(Type.String({ minLength: 1, maxLength: 4096 }));
const Writable = {
  phone_number: Type.Optional(Nullable(Type.String({ maxLength: 32 }))),
  account_id: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
  api_key: Type.Optional(Secret),
  api_secret: Type.Optional(Secret),
  webhook_secret: Type.Optional(Secret),
  is_active: Type.Optional(Type.Boolean()),
  verify_token: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  settings: Type.Optional(Settings),
};

export const channelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/social/channels', {
    config: { auth: 'business.manage' },
    schema: { tags: ['social'], summary: 'Connect a channel (secrets are write-only)', body: Type.Object({ channel_type: ChannelType, ...Writable }), response: { 201: Channel } },
  }, async (req, reply) => reply.status(201).send(await channels.createChannel(ctxOf(req), req.body as any)));

  app.patch('/social/channels/:id', {
    config: { auth: 'business.manage' },
    schema: { tags: ['social'], summary: 'Enable, disable, rotate secrets, change settings', params: IdParams, body: Type.Object(Writable, { minProperties: 1 }), response: { 200: Channel } },
  }, async (req) => channels.updateChannel(ctxOf(req), req.params.id, req.body as any));

  app.post('/social/channels/:id/check', {
    config: { auth: 'business.manage' },
    schema: {
      tags: ['social'], summary: 'Ask the provider whether the credentials work; records active or needs_attention',
      description: 'Meta: reads the phone number (display_phone_number, verified_name, quality_rating) or page; Twilio: the account; Telegram: getMe. 409 channel_incomplete while a credential is missing; 502 provider_unreachable when the provider cannot be asked (nothing is changed).',
      params: IdParams, response: { 200: Channel },
    },
  }, async (req) => channels.checkChannel(ctxOf(req), req.params.id));

  app.get('/social/channels', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'Channels, without secrets', response: { 200: PageOf(Channel) } },
  }, async (req) => channels.listChannels(ctxOf(req)));

  app.get('/social/channels/:id', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'One channel, without secrets', params: IdParams, response: { 200: Channel } },
  }, async (req) => channels.getChannel(ctxOf(req), req.params.id));
};
