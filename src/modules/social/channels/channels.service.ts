// Social channels: a business's WhatsApp number (or page, bot) with its provider credentials.
// Secrets are encrypted at rest and never leave through the API; responses say has_* instead.
import { badRequest, notFound } from '../../../platform/errors.js';
import { decryptSecret, encryptSecret } from '../../../platform/secrets.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import { toE164 } from '../../../platform/phone.js';
import { isTemplateEvent, isTemplateVariable } from '../templates/templates.js';
import type { Ctx } from '../../context.js';
import { businessCountry } from '../../customers/customers.service.js';

export const CHANNEL_TYPES = ['whatsapp', 'facebook', 'instagram', 'telegram'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
const SECRET_FIELDS = ['api_key', 'api_secret', 'webhook_secret'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

export interface ChannelInput {
  channel_type?: ChannelType;
  phone_number?: string | null;
  account_id?: string | null;
  api_key?: string | null;
  api_secret?: string | null;
  webhook_secret?: string | null;
  is_active?: boolean;
  settings?: Record<string, any>;
}

const PUBLIC_COLS = `id, channel_type, phone_number, account_id, is_active, settings, status, status_reason,
  api_key_enc IS NOT NULL AS has_api_key, api_secret_enc IS NOT NULL AS has_api_secret,
  webhook_secret_enc IS NOT NULL AS has_webhook_secret, created_at, updated_at`;

/** Which providers can serve which channel type. */
const PROVIDERS_FOR: Record<ChannelType, readonly string[]> = {
  whatsapp: ['meta', 'twilio', 'sandbox'],
  facebook: ['messenger', 'sandbox'],
  instagram: ['instagram', 'sandbox'],
  telegram: ['telegram', 'sandbox'],
};

/** Checks settings against what the sender and webhook understand; 400 with every problem. */
function checkSettings(type: ChannelType, s: Record<string, any>) {
  const errors: { field: string; message: string }[] = [];
  if (s.provider !== undefined && !PROVIDERS_FOR[type].includes(s.provider)) {
    errors.push({ field: 'settings.provider', message: `must be one of ${PROVIDERS_FOR[type].join(', ')} for ${type}` });
  }
  if (s.max_per_second !== undefined && !(Number.isInteger(s.max_per_second) && s.max_per_second >= 1 && s.max_per_second <= 1000)) {
    errors.push({ field: 'settings.max_per_second', message: 'must be an integer from 1 to 1000' });
  }
  if (s.verify_token !== undefined && (typeof s.verify_token !== 'string' || s.verify_token.length < 8)) {
    errors.push({ field: 'settings.verify_token', message: 'must be a string of at least 8 characters' });
  }
  if (s.default !== undefined && typeof s.default !== 'boolean') {
    errors.push({ field: 'settings.default', message: 'must be true or false' });
  }
  for (const [event, on] of Object.entries(s.notifications ?? {})) {
    if (!isTemplateEvent(event)) errors.push({ field: `settings.notifications.${event}`, message: 'is not a notification event' });
    else if (typeof on !== 'boolean') errors.push({ field: `settings.notifications.${event}`, message: 'must be true or false' });
  }
  for (const [event, t] of Object.entries<any>(s.templates ?? {})) {
    const f = `settings.templates.${event}`;
    if (!isTemplateEvent(event)) { errors.push({ field: f, message: 'is not a notification event' }); continue; }
    if (!t || typeof t.name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(t.name)) errors.push({ field: `${f}.name`, message: 'must be an approved template name (lower-case letters, digits, _)' });
    if (!t || typeof t.language !== 'string' || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(t.language)) errors.push({ field: `${f}.language`, message: 'must be a language code such as en or en_US' });
    if (t && t.params !== undefined && (!Array.isArray(t.params) || t.params.some((p: unknown) => typeof p !== 'string' || !isTemplateVariable(p)))) {
      errors.push({ field: `${f}.params`, message: 'must list template variables such as customerName, invoiceNo' });
    }
  }
  if (errors.length) throw badRequest('Invalid channel settings', errors);
}

function normaliseAddress(type: ChannelType, phone: string | null | undefined, country: string) {
  if (phone === undefined || phone === null) return phone;
  if (type !== 'whatsapp') return phone.trim();
  const e164 = toE164(phone, country);
  if (!e164) throw badRequest('Invalid phone number', [{ field: 'phone_number', message: 'is not a valid phone number' }]);
  return e164;
}

const ctxFor = (id: string, field: SecretField) => `social_channels:${id}:${field}`;

export async function createChannel(ctx: Ctx, input: ChannelInput & { channel_type: ChannelType }) {
  const settings = input.settings ?? {};
  checkSettings(input.channel_type, settings);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const country = await businessCountry(tx);
    const id = (await tx.query<{ id: string }>(`SELECT gen_random_uuid() AS id`)).rows[0].id;
    const enc = (f: SecretField) => (input[f] ? encryptSecret(ctx.config.secretsKey, input[f]!, ctxFor(id, f)) : null);
    const r = await tx.query(
      `INSERT INTO social_channels (business_id, id, channel_type, phone_number, account_id, api_key_enc, api_secret_enc,
         webhook_secret_enc, is_active, settings)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, true), $10) RETURNING ${PUBLIC_COLS}`,
      [ctx.principal.businessId, id, input.channel_type, normaliseAddress(input.channel_type, input.phone_number, country) ?? null,
        input.account_id ?? null, enc('api_key'), enc('api_secret'), enc('webhook_secret'), input.is_active ?? null, JSON.stringify(settings)],
    );
    await syncRoutes(tx, ctx.principal.businessId, r.rows[0]);
    return r.rows[0];
  });
}

/**
 * Keeps the global routing index in step with the channel: the webhook finds candidate channels
 * by the address a provider names (phone number id, page id, Twilio number) or by channel id.
 */
async function syncRoutes(tx: Tx, businessId: string, ch: { id: string; channel_type: string; account_id: string | null; phone_number: string | null; settings: Record<string, any> }) {
  await tx.query(`DELETE FROM channel_routes WHERE channel_id = $1`, [ch.id]);
  const verify = ch.settings?.verify_token ? `verify:${ch.settings.verify_token}` : null;
  const addresses = [...new Set([ch.id, ch.account_id, ch.phone_number, verify].filter((a): a is string => Boolean(a)))];
  await tx.query(
    `INSERT INTO channel_routes (channel_type, address, business_id, channel_id) SELECT $1, a, $2, $3 FROM unnest($4::text[]) a`,
    [ch.channel_type, businessId, ch.id, addresses]);
}

export async function updateChannel(ctx: Ctx, id: string, input: ChannelInput) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const cur = (await tx.query(`SELECT channel_type, settings FROM social_channels WHERE id = $1 FOR UPDATE`, [id])).rows[0];
    if (!cur) throw notFound('Channel');
    // Settings merge one level deep, so a switch can be flipped without resending the rest.
    const merged: Record<string, any> = { ...cur.settings };
    for (const [k, v] of Object.entries(input.settings ?? {})) {
      merged[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof merged[k] === 'object' ? { ...merged[k], ...v } : v;
      if (v === null) delete merged[k];
    }
    checkSettings(cur.channel_type, merged);
    const country = await businessCountry(tx);
    const sets: string[] = ['settings = $2', 'updated_at = now()'];
    const params: unknown[] = [id, JSON.stringify(merged)];
    const set = (col: string, v: unknown) => { params.push(v); sets.push(`${col} = $${params.length}`); };
    if (input.phone_number !== undefined) set('phone_number', normaliseAddress(cur.channel_type, input.phone_number, country));
    if (input.account_id !== undefined) set('account_id', input.account_id);
    if (input.is_active !== undefined) set('is_active', input.is_active);
    for (const f of SECRET_FIELDS) {
      if (input[f] !== undefined) set(`${f}_enc`, input[f] ? encryptSecret(ctx.config.secretsKey, input[f]!, ctxFor(id, f)) : null);
    }
    // New credentials or a re-enable are the owner's answer to "needs attention".
    if (input.api_key !== undefined || input.api_secret !== undefined || input.is_active === true) {
      sets.push(`status = 'active'`, 'status_reason = NULL');
    }
    const r = await tx.query(`UPDATE social_channels SET ${sets.join(', ')} WHERE id = $1 RETURNING ${PUBLIC_COLS}`, params);
    await syncRoutes(tx, ctx.principal.businessId, r.rows[0]);
    return r.rows[0];
  });
}

export async function listChannels(ctx: Ctx) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${PUBLIC_COLS} FROM social_channels ORDER BY created_at, id`);
    return { data: r.rows, next_cursor: null };
  });
}

export async function getChannel(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${PUBLIC_COLS} FROM social_channels WHERE id = $1`, [id]);
    if (!r.rows[0]) throw notFound('Channel');
    return r.rows[0];
  });
}

/** A channel with its secrets decrypted, for the sender and the webhook only. */
export interface ChannelWithSecrets {
  id: string;
  business_id: string;
  channel_type: ChannelType;
  phone_number: string | null;
  account_id: string | null;
  is_active: boolean;
  status: string;
  settings: Record<string, any>;
  api_key: string | null;
  api_secret: string | null;
  webhook_secret: string | null;
}

export async function loadChannelWithSecrets(tx: Tx, key: Buffer, id: string): Promise<ChannelWithSecrets | undefined> {
  const r = await tx.query(`SELECT * FROM social_channels WHERE id = $1`, [id]);
  const row = r.rows[0];
  if (!row) return undefined;
  const dec = (f: SecretField) => (row[`${f}_enc`] ? decryptSecret(key, row[`${f}_enc`], ctxFor(row.id, f)) : null);
  return {
    id: row.id, business_id: row.business_id, channel_type: row.channel_type, phone_number: row.phone_number,
    account_id: row.account_id, is_active: row.is_active, status: row.status, settings: row.settings,
    api_key: dec('api_key'), api_secret: dec('api_secret'), webhook_secret: dec('webhook_secret'),
  };
}

export async function markNeedsAttention(tx: Tx, channelId: string, reason: string) {
  await tx.query(`UPDATE social_channels SET status = 'needs_attention', status_reason = $2, updated_at = now() WHERE id = $1`, [channelId, reason]);
}
