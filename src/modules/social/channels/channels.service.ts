// Social channels: a business's WhatsApp number (or page, bot) with its provider credentials.
// Secrets are encrypted at rest and never leave through the API; responses say has_* instead.
// A channel whose provider lacks a credential is `incomplete` and sends nothing; a check asks the
// provider whether the credentials work and records `active` or `needs_attention`.
import { randomBytes } from 'node:crypto';
import { can } from '../../../platform/auth.js';
import { AppError, badRequest, conflict, notFound } from '../../../platform/errors.js';
import { decryptSecret, encryptSecret } from '../../../platform/secrets.js';
import { prepared } from '../../../platform/db.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import { toPossibleE164 } from '../../../platform/phone.js';
import { createProvider, missingCredentials, providerNameFor, type CheckResult, type CredentialField, type ProviderName } from '../providers/provider.js';
import { redact } from '../providers/http.js';
import { isTemplateEvent, isTemplateVariable } from '../templates/templates.js';
import type { Ctx } from '../../context.js';
import { recordAudit } from '../../audit/index.js';
import { businessCountry } from '../../customers/customers.service.js';

export const CHANNEL_TYPES = ['whatsapp', 'facebook', 'instagram', 'telegram'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export const SECRET_FIELDS = ['api_key', 'api_secret', 'webhook_secret'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

export interface ChannelInput {
  channel_type?: ChannelType;
  phone_number?: string | null;
  account_id?: string | null;
  api_key?: string | null;
  api_secret?: string | null;
  webhook_secret?: string | null;
  is_active?: boolean;
  verify_token?: string;
  settings?: Record<string, any>;
}

const PUBLIC_COLS = `id, channel_type, phone_number, account_id, is_active, settings, status, status_reason,
  api_key_enc IS NOT NULL AS has_api_key, api_secret_enc IS NOT NULL AS has_api_secret,
  webhook_secret_enc IS NOT NULL AS has_webhook_secret, provider_info, checked_at, created_at, updated_at`;

/** The URL to paste into Meta's, Twilio's or Telegram's dashboard (Telegram names the channel). */
export function webhookUrl(publicBaseUrl: string, ch: { id: string; channel_type: string }): string {
  const url = `${publicBaseUrl}/api/v1/social/webhook/${ch.channel_type}`;
  return ch.channel_type === 'telegram' ? `${url}?channel_id=${ch.id}` : url;
}

/**
 * A channel as the API shows it: its provider and webhook URL for everyone who may read it; the
 * verify token (a shared secret with Meta) to those who manage the business only.
 */
function present(ctx: Ctx, row: Record<string, any>): any {
  const { verify_token, ...settings } = row.settings ?? {};
  return {
    ...row,
    settings,
    provider: providerNameFor(row as { channel_type: ChannelType; settings: Record<string, any> }),
    webhook_url: webhookUrl(ctx.config.publicBaseUrl, row as { id: string; channel_type: string }),
    ...(can(ctx.principal.role, 'business.manage') ? { verify_token: verify_token ?? null } : {}),
  };
}

/** Random and URL-safe: it travels in Meta's handshake query string. */
const newVerifyToken = () => randomBytes(24).toString('base64url');

/** `incomplete` while the provider lacks a credential it needs, naming each one. */
function completeness(type: ChannelType, settings: Record<string, any>, present: Partial<Record<CredentialField, boolean>>) {
  const missing = missingCredentials({ channel_type: type, settings, present });
  return missing.length ? { status: 'incomplete' as const, reason: `Missing: ${missing.join(', ')}` } : undefined;
}

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
  // The business's own number: possible is enough (Meta's +1 555 test numbers are not "valid").
  const e164 = toPossibleE164(phone, country);
  if (!e164) throw badRequest('Invalid phone number', [{ field: 'phone_number', message: 'is not a possible phone number (give it with its country code, e.g. +1 555 123 4567)' }]);
  return e164;
}

/** The associated data that binds a ciphertext to its channel and field. */
export const ctxFor = (id: string, field: SecretField) => `social_channels:${id}:${field}`;

export async function createChannel(ctx: Ctx, input: ChannelInput & { channel_type: ChannelType }) {
  const settings = { ...(input.settings ?? {}) };
  if (input.verify_token !== undefined) settings.verify_token = input.verify_token;
  checkSettings(input.channel_type, settings);
  if (!settings.verify_token) settings.verify_token = newVerifyToken();
  const gap = completeness(input.channel_type, settings, {
    api_key: Boolean(input.api_key), api_secret: Boolean(input.api_secret), webhook_secret: Boolean(input.webhook_secret), account_id: Boolean(input.account_id),
  });
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const country = await businessCountry(tx);
    const id = (await tx.query<{ id: string }>(`SELECT gen_random_uuid() AS id`)).rows[0].id;
    const enc = (f: SecretField) => (input[f] ? encryptSecret(ctx.config.secretsKey, input[f]!, ctxFor(id, f)) : null);
    const r = await tx.query(
      `INSERT INTO social_channels (business_id, id, channel_type, phone_number, account_id, api_key_enc, api_secret_enc,
         webhook_secret_enc, is_active, settings, status, status_reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, true), $10, $11, $12) RETURNING ${PUBLIC_COLS}`,
      [ctx.principal.businessId, id, input.channel_type, normaliseAddress(input.channel_type, input.phone_number, country) ?? null,
        input.account_id ?? null, enc('api_key'), enc('api_secret'), enc('webhook_secret'), input.is_active ?? null, JSON.stringify(settings),
        gap?.status ?? 'active', gap?.reason ?? null],
    );
    await syncRoutes(tx, ctx.principal.businessId, r.rows[0]);
    const ch = r.rows[0];
    const secrets = SECRET_FIELDS.filter((f) => input[f]);
    await recordAudit(tx, ctx, {
      action: 'channel.created', entity_type: 'channel', entity_id: id,
      summary: `connected the ${channelLabel(ch)} (${providerNameFor(ch)})${ch.is_active ? '' : ', switched off'}`
        + (secrets.length ? `, with ${secrets.map((f) => SECRET_LABEL[f]).join(', ')}` : ''),
      changes: {
        phone_number: [null, ch.phone_number], account_id: [null, ch.account_id], is_active: [null, ch.is_active],
        ...Object.fromEntries(secrets.map((f) => [f, [null, 'set']])),
      },
    });
    return present(ctx, ch);
  });
}

const TYPE_LABEL: Record<ChannelType, string> = { whatsapp: 'WhatsApp', facebook: 'Messenger', instagram: 'Instagram', telegram: 'Telegram' };
const SECRET_LABEL: Record<SecretField, string> = { api_key: 'the access token (api_key)', api_secret: 'the API secret (api_secret)', webhook_secret: 'the webhook secret (webhook_secret)' };

/** "WhatsApp channel +15551234567": how the owner recognises a channel in the audit trail. */
function channelLabel(ch: { channel_type: ChannelType; phone_number: string | null; account_id: string | null }) {
  const address = ch.phone_number ?? ch.account_id;
  return `${TYPE_LABEL[ch.channel_type]} channel${address ? ` ${address}` : ''}`;
}

/** Settings one level deep ("notifications.order.ready"); the verify token is a shared secret: changed, never shown. */
function settingsChanges(before: Record<string, any>, after: Record<string, any>): Record<string, [unknown, unknown]> {
  const flat = (s: Record<string, any>) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(s ?? {})) {
      if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = JSON.stringify(v2);
      else out[k] = JSON.stringify(v);
    }
    return out;
  };
  const a = flat(before), b = flat(after);
  const changes: Record<string, [unknown, unknown]> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[k] === b[k]) continue;
    changes[k] = k === 'verify_token'
      ? [a[k] === undefined ? null : 'set', b[k] === undefined ? null : 'replaced']
      : [a[k] === undefined ? null : JSON.parse(a[k]), b[k] === undefined ? null : JSON.parse(b[k])];
  }
  return changes;
}

/** One entry per kind of change, so switching a channel off or rotating a secret stands out. */
async function auditChannelChange(tx: Tx, ctx: Ctx, cur: Record<string, any>, ch: Record<string, any>, input: ChannelInput, settings: Record<string, [unknown, unknown]>) {
  const label = channelLabel(ch as any);
  const entry = (action: string, summary: string, changes: Record<string, [unknown, unknown]>) =>
    recordAudit(tx, ctx, { action, entity_type: 'channel', entity_id: ch.id, summary, changes });
  if (cur.is_active !== ch.is_active) {
    await entry(ch.is_active ? 'channel.activated' : 'channel.deactivated',
      `switched ${ch.is_active ? 'on' : 'off'} the ${label}`, { is_active: [cur.is_active, ch.is_active] });
  }
  const rotated = SECRET_FIELDS.filter((f) => input[f] !== undefined && (input[f] || cur[`has_${f}`])); // removing nothing is no change
  if (rotated.length) {
    const words = rotated.map((f) => `${input[f] ? (cur[`has_${f}`] ? 'replaced' : 'set') : 'removed'} ${SECRET_LABEL[f]}`);
    await entry('channel.secrets_changed', `${words.join(', ')} of the ${label}`,
      Object.fromEntries(rotated.map((f) => [f, [cur[`has_${f}`] ? 'set' : null, input[f] ? (cur[`has_${f}`] ? 'replaced' : 'set') : null]])));
  }
  const address: Record<string, [unknown, unknown]> = {};
  for (const f of ['phone_number', 'account_id'] as const) if ((cur[f] ?? null) !== (ch[f] ?? null)) address[f] = [cur[f] ?? null, ch[f] ?? null];
  if (Object.keys(address).length) {
    await entry('channel.address_changed', `changed the ${Object.keys(address).map((f) => f.replace('_', ' ')).join(' and ')} of the ${label}`
      + ` (${Object.values(address).map(([a, b]) => `${a ?? 'none'} → ${b ?? 'none'}`).join(', ')})`, address);
  }
  if (Object.keys(settings).length) {
    const shown = Object.entries(settings).map(([k, [a, b]]) =>
      k === 'verify_token' ? 'a new verify token' : `${k} ${a === null ? 'unset' : JSON.stringify(a)} → ${b === null ? 'unset' : JSON.stringify(b)}`);
    await entry('channel.settings_changed', `changed the settings of the ${label}: ${shown.join('; ')}`, settings);
  }
}

/**
 * Keeps the global routing index in step with the channel: the webhook finds candidate channels
 * by the address a provider names (phone number id, page id, Twilio number) or by channel id.
 */
async function syncRoutes(tx: Tx, businessId: string, ch: { id: string; channel_type: string; account_id: string | null; phone_number: string | null; settings: Record<string, any>; is_active: boolean }) {
  await claimAddresses(tx, businessId);
  await tx.query(`DELETE FROM channel_routes WHERE channel_id = $1`, [ch.id]);
  const verify = ch.settings?.verify_token ? `verify:${ch.settings.verify_token}` : null;
  const addresses = [...new Set([ch.id, ch.account_id, ch.phone_number, verify].filter((a): a is string => Boolean(a)))];
  await tx.query(
    `INSERT INTO channel_routes (channel_type, address, business_id, channel_id) SELECT $1, a, $2, $3 FROM unnest($4::text[]) a`,
    [ch.channel_type, businessId, ch.id, addresses]);
}

/** The address a provider names this channel by in its webhooks, while it is enabled (Telegram: none, it is routed by id). */
function claimedAddress(ch: { channel_type: string; account_id: string | null; phone_number: string | null; settings: Record<string, any>; is_active: boolean }) {
  if (!ch.is_active || ch.channel_type === 'telegram') return undefined;
  const viaTwilio = ch.channel_type === 'whatsapp' && ch.settings?.provider === 'twilio';
  const address = viaTwilio ? ch.phone_number : ch.account_id;
  return address ? { address, field: viaTwilio ? 'phone_number' : 'account_id' } : undefined;
}

/**
 * The business holds exactly the addresses of its enabled channels. A unique key on the address
 * makes a second business's claim wait for the first and then fail: 409 address_in_use, and the
 * transaction (the channel's change) rolls back.
 */
async function claimAddresses(tx: Tx, businessId: string) {
  const channels = (await tx.query(`SELECT channel_type, account_id, phone_number, settings, is_active FROM social_channels ORDER BY created_at, id`)).rows;
  const wanted = new Map<string, { channel_type: string; address: string; field: string }>();
  for (const ch of channels) {
    const c = claimedAddress(ch);
    if (c) wanted.set(`${ch.channel_type}\u0001${c.address}`, { channel_type: ch.channel_type, ...c });
  }
  const list = [...wanted.values()];
  await tx.query(
    `DELETE FROM channel_addresses WHERE business_id = $1
       AND (channel_type, address) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [businessId, list.map((c) => c.channel_type), list.map((c) => c.address)]);
  for (const c of list) {
    // Two statements: after waiting on a concurrent claim, the SELECT's fresh snapshot sees its owner.
    const inserted = await tx.query(
      `INSERT INTO channel_addresses (channel_type, address, business_id) VALUES ($1, $2, $3)
       ON CONFLICT (channel_type, address) DO NOTHING RETURNING business_id`, [c.channel_type, c.address, businessId]);
    const held = inserted.rows.length ? inserted : await tx.query<{ business_id: string }>(
      `SELECT business_id FROM channel_addresses WHERE channel_type = $1 AND address = $2`, [c.channel_type, c.address]);
    if (held.rows.some((r) => r.business_id !== businessId)) {
      throw new AppError(409, 'address_in_use',
        `This ${c.field === 'phone_number' ? 'number' : 'account id'} is already connected to an enabled ${c.channel_type} channel of another business`,
        [{ field: c.field, message: 'is in use by another business' }]);
    }
  }
}

export async function updateChannel(ctx: Ctx, id: string, input: ChannelInput) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const cur = (await tx.query(
      `SELECT channel_type, settings, status, account_id, phone_number, is_active, api_key_enc IS NOT NULL AS has_api_key, api_secret_enc IS NOT NULL AS has_api_secret,
         webhook_secret_enc IS NOT NULL AS has_webhook_secret FROM social_channels WHERE id = $1 FOR UPDATE`, [id])).rows[0];
    if (!cur) throw notFound('Channel');
    // Settings merge one level deep, so a switch can be flipped without resending the rest.
    const merged: Record<string, any> = { ...cur.settings };
    for (const [k, v] of Object.entries(input.settings ?? {})) {
      merged[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof merged[k] === 'object' ? { ...merged[k], ...v } : v;
      if (v === null) delete merged[k];
    }
    if (input.verify_token !== undefined) merged.verify_token = input.verify_token;
    checkSettings(cur.channel_type, merged);
    if (!merged.verify_token) merged.verify_token = newVerifyToken(); // removed: a fresh one, never none
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
    const has = (f: SecretField) => (input[f] !== undefined ? Boolean(input[f]) : cur[`has_${f}`]);
    const gap = completeness(cur.channel_type, merged, {
      api_key: has('api_key'), api_secret: has('api_secret'), webhook_secret: has('webhook_secret'),
      account_id: Boolean(input.account_id !== undefined ? input.account_id : cur.account_id),
    });
    // What the provider said about the old credentials no longer holds for new ones.
    const credentialsChanged = SECRET_FIELDS.some((f) => input[f] !== undefined) || input.account_id !== undefined
      || (merged.provider ?? null) !== (cur.settings?.provider ?? null);
    if (credentialsChanged) sets.push('provider_info = NULL', 'checked_at = NULL');
    if (gap) {
      set('status', gap.status);
      set('status_reason', gap.reason);
    } else if (cur.status === 'incomplete' || credentialsChanged || input.is_active === true) {
      // Complete again, new credentials or a re-enable: the owner's answer to "needs attention".
      sets.push(`status = 'active'`, 'status_reason = NULL');
    }
    const r = await tx.query(`UPDATE social_channels SET ${sets.join(', ')} WHERE id = $1 RETURNING ${PUBLIC_COLS}`, params);
    await syncRoutes(tx, ctx.principal.businessId, r.rows[0]);
    await auditChannelChange(tx, ctx, cur, r.rows[0], input, settingsChanges(cur.settings, merged));
    return present(ctx, r.rows[0]);
  });
}

export async function listChannels(ctx: Ctx) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${PUBLIC_COLS} FROM social_channels ORDER BY created_at, id`);
    return { data: r.rows.map((row) => present(ctx, row)), next_cursor: null };
  });
}

export async function getChannel(ctx: Ctx, id: string) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT ${PUBLIC_COLS} FROM social_channels WHERE id = $1`, [id]);
    if (!r.rows[0]) throw notFound('Channel');
    return present(ctx, r.rows[0]);
  });
}

const PROVIDER_LABEL: Record<ProviderName, string> = {
  meta: 'Meta', messenger: 'Meta', instagram: 'Meta', twilio: 'Twilio', telegram: 'Telegram', sandbox: 'The sandbox',
};

/** What went wrong, in the owner's words, with what to do about it. */
function checkReason(provider: ProviderName, ch: ChannelWithSecrets, r: Extract<CheckResult, { ok: false }>): string {
  const said = `(${r.code}: ${r.message})`;
  const who = PROVIDER_LABEL[provider];
  if (r.kind === 'auth') {
    switch (provider) {
      case 'meta':
      case 'messenger':
      case 'instagram':
        return `Meta refused the access token ${said}. Make a new one (a system user's token does not expire) and save it as api_key.`;
      case 'twilio':
        return `Twilio refused the Account SID and auth token ${said}. Copy both again from the Twilio console (api_key, api_secret).`;
      case 'telegram':
        return `Telegram refused the bot token ${said}. Copy the token @BotFather gave again and save it as api_key.`;
    }
  }
  if (provider === 'meta' && (r.code === '100' || r.code === 'bad_response')) {
    return `Meta did not recognise ${ch.account_id} as a phone number ID ${said}. Use the Phone number ID from WhatsApp > API Setup (not the WhatsApp Business Account ID) as account_id.`;
  }
  return `${who} refused the check ${said}.`;
}

/**
 * Asks the provider whether the channel's credentials work (one read-only call) and records the
 * answer: `active` with what the provider reported, or `needs_attention` with the reason. When the
 * provider cannot be reached nothing is recorded: that says nothing about the credentials.
 */
export async function checkChannel(ctx: Ctx, id: string) {
  const ch = await withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const c = await loadChannelWithSecrets(tx, ctx.config.secretsKey, id);
    if (!c) throw notFound('Channel');
    return c;
  });
  if (ch.status === 'incomplete') throw conflict(`The channel cannot be checked yet. ${ch.status_reason}`, 'channel_incomplete');
  const provider = providerNameFor(ch);
  const secrets = [ch.api_key, ch.api_secret, ch.webhook_secret];
  let result: CheckResult;
  try {
    result = await createProvider(provider, ctx.config).check(ch);
  } catch (err: any) {
    result = { ok: false, kind: 'transient', code: 'check_error', message: String(err?.message ?? err) };
  }
  if (!result.ok) result = { ...result, message: redact(result.message, secrets) };
  if (!result.ok && result.kind === 'transient') {
    throw new AppError(502, 'provider_unreachable',
      `Could not reach ${PROVIDER_LABEL[provider]} to check the channel (${result.code}: ${result.message}). Nothing was changed; try again in a minute.`);
  }
  const status = result.ok ? 'active' : 'needs_attention';
  const reason = result.ok ? null : redact(checkReason(provider, ch, result), secrets);
  const info = result.ok ? result.info : (result.info ?? null);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    // Only if nobody changed the channel meanwhile: the answer is about the credentials we sent.
    const r = await tx.query(
      `UPDATE social_channels SET status = $2, status_reason = $3, provider_info = $4, checked_at = now(), updated_at = now()
       WHERE id = $1 AND version = $5 AND status <> 'incomplete' RETURNING ${PUBLIC_COLS}`,
      [id, status, reason, info === null ? null : JSON.stringify(info), ch.version]);
    if (!r.rows[0]) throw conflict('The channel changed while it was being checked; check it again', 'channel_changed');
    return present(ctx, r.rows[0]);
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
  status_reason: string | null;
  settings: Record<string, any>;
  api_key: string | null;
  api_secret: string | null;
  webhook_secret: string | null;
  /** Raised by every change to the channel's row (migration 0010): what the webhook cache checks. */
  version: number;
}

/** The columns channelWithSecrets() reads, for a query that selects a channel (aliased `alias`) with other rows. */
export const CHANNEL_COLUMNS = ['id', 'business_id', 'channel_type', 'phone_number', 'account_id', 'is_active', 'status',
  'status_reason', 'settings', 'api_key_enc', 'api_secret_enc', 'webhook_secret_enc', 'version'] as const;
export const channelColumns = (alias: string) => CHANNEL_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

/** A channel's row (at least channelColumns()) with its secrets decrypted. */
export function channelWithSecrets(key: Buffer, row: Record<string, any>): ChannelWithSecrets {
  const dec = (f: SecretField) => (row[`${f}_enc`] ? decryptSecret(key, row[`${f}_enc`], ctxFor(row.id, f)) : null);
  return {
    id: row.id, business_id: row.business_id, channel_type: row.channel_type, phone_number: row.phone_number,
    account_id: row.account_id, is_active: row.is_active, status: row.status, status_reason: row.status_reason, settings: row.settings,
    api_key: dec('api_key'), api_secret: dec('api_secret'), webhook_secret: dec('webhook_secret'),
    version: Number(row.version),
  };
}

const CHANNEL_BY_ID = prepared(`SELECT ${channelColumns('c')} FROM social_channels c WHERE c.id = $1`);

export async function loadChannelWithSecrets(tx: Tx, key: Buffer, id: string): Promise<ChannelWithSecrets | undefined> {
  const row = (await tx.query(CHANNEL_BY_ID, [id])).rows[0];
  return row ? channelWithSecrets(key, row) : undefined;
}

/** Why nothing may be sent on this channel now (disabled, incomplete, needs attention), if so. */
export function whyNotSending(ch: Pick<ChannelWithSecrets, 'is_active' | 'status' | 'status_reason'> | undefined): { code: string; message: string } {
  if (!ch || !ch.is_active) return { code: 'channel_inactive', message: 'The channel was disabled before the message went out' };
  if (ch.status === 'incomplete') return { code: 'channel_incomplete', message: `The channel is incomplete and sends nothing. ${ch.status_reason ?? ''}`.trim() };
  return { code: 'channel_needs_attention', message: `The channel needs attention and sends nothing: ${ch.status_reason ?? 'check its credentials'}` };
}

export async function markNeedsAttention(tx: Tx, channelId: string, reason: string) {
  // An incomplete channel stays incomplete: the missing value is the first thing to fix.
  await tx.query(`UPDATE social_channels SET status = 'needs_attention', status_reason = $2, updated_at = now() WHERE id = $1 AND status <> 'incomplete'`, [channelId, reason]);
}
