// Outbound providers behind one interface. A provider turns one rendered message into one HTTP call
// and answers with a SendResult; it never throws for a provider's refusal, a network error or a
// timeout, and never logs or returns a channel's secrets. The caller (the notification sender)
// decides from `kind` what happens next: retry (transient, honouring retry_after_ms), fail the
// message (permanent), fail it and mark the channel needs_attention (auth), or fall back to an
// approved template (window).
import { createMetaProvider } from './meta.js';
import { createMessengerProvider } from './messenger.js';
import { createSandboxProvider } from './sandbox.js';
import { createTelegramProvider } from './telegram.js';
import { createTwilioProvider } from './twilio.js';

export type ChannelType = 'whatsapp' | 'facebook' | 'instagram' | 'telegram';

export interface ProviderChannel {
  channel_type: ChannelType;
  phone_number: string | null;
  account_id: string | null;
  api_key: string | null;
  api_secret: string | null;
  settings: Record<string, any>;
}

export interface OutboundMessage {
  to: string;
  text: string;
  template?: { name: string; language: string; params: string[] };
}

export type SendFailureKind = 'transient' | 'permanent' | 'auth' | 'window';

export type SendResult =
  | { ok: true; provider_message_id: string }
  | { ok: false; kind: SendFailureKind; code: string; message: string; retry_after_ms?: number };

/**
 * What the provider said when asked whether the channel's credentials work. `info` is what it
 * reported about the account (WhatsApp: display_phone_number, verified_name, quality_rating).
 * `transient` means it could not be asked (network, timeout, 5xx, 429): nothing is known.
 */
export type CheckResult =
  | { ok: true; info: Record<string, unknown> }
  | { ok: false; kind: 'auth' | 'permanent' | 'transient'; code: string; message: string; info?: Record<string, unknown> };

export interface Provider {
  readonly name: string;
  send(channel: ProviderChannel, msg: OutboundMessage): Promise<SendResult>;
  /** One read-only call with the channel's credentials; never throws, never returns a secret. */
  check(channel: ProviderChannel): Promise<CheckResult>;
}

/** A send failure read as a check failure: a window refusal cannot happen on a read. */
export function checkFailure(r: Extract<SendResult, { ok: false }>): Extract<CheckResult, { ok: false }> {
  return { ok: false, kind: r.kind === 'window' ? 'permanent' : r.kind, code: r.code, message: r.message };
}

export interface ProviderUrls {
  metaGraphApiUrl: string;
  twilioApiUrl: string;
  telegramApiUrl: string;
}

export type ProviderLog = (obj: object, msg: string) => void;

export interface ProviderOptions {
  /** Whole-request timeout (connect, headers and body); a timeout is a transient failure. */
  timeoutMs?: number;
  log?: ProviderLog;
}

export const PROVIDER_NAMES = ['meta', 'twilio', 'messenger', 'instagram', 'telegram', 'sandbox'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export const DEFAULT_TIMEOUT_MS = 10_000;

export function isProviderName(v: unknown): v is ProviderName {
  return typeof v === 'string' && (PROVIDER_NAMES as readonly string[]).includes(v);
}

export function createProvider(name: ProviderName, urls: ProviderUrls, opts: ProviderOptions = {}): Provider {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  switch (name) {
    case 'meta':
      return createMetaProvider(urls.metaGraphApiUrl, timeoutMs);
    case 'twilio':
      return createTwilioProvider(urls.twilioApiUrl, timeoutMs);
    case 'messenger':
    case 'instagram':
      return createMessengerProvider(name, urls.metaGraphApiUrl, timeoutMs);
    case 'telegram':
      return createTelegramProvider(urls.telegramApiUrl, timeoutMs);
    case 'sandbox':
      return createSandboxProvider(opts.log);
    default:
      throw new Error(`unknown provider "${String(name)}"`);
  }
}

/** The provider a channel uses when its settings name none. */
export function defaultProviderName(channel_type: ChannelType): ProviderName {
  switch (channel_type) {
    case 'whatsapp':
      return 'meta';
    case 'facebook':
      return 'messenger';
    case 'instagram':
      return 'instagram';
    case 'telegram':
      return 'telegram';
    default:
      throw new Error(`unknown channel type "${String(channel_type)}"`);
  }
}

export type CredentialField = 'api_key' | 'api_secret' | 'webhook_secret' | 'account_id';

/**
 * What each provider needs before it can send and verify webhooks, named as the owner finds it in
 * the provider's dashboard. migrations/0006_going_live.sql applies the same table to old channels.
 */
export const REQUIRED_CREDENTIALS: Record<ProviderName, readonly (readonly [CredentialField, string])[]> = {
  meta: [['api_key', 'access token'], ['webhook_secret', 'app secret'], ['account_id', 'phone number ID']],
  messenger: [['api_key', 'page access token'], ['webhook_secret', 'app secret']],
  instagram: [['api_key', 'access token'], ['webhook_secret', 'app secret']],
  twilio: [['api_key', 'account SID'], ['api_secret', 'auth token']],
  telegram: [['api_key', 'bot token'], ['webhook_secret', 'secret token']],
  sandbox: [],
};

/** The values a channel still lacks, e.g. ["access token (api_key)", "app secret (webhook_secret)"]. */
export function missingCredentials(channel: Pick<ProviderChannel, 'channel_type' | 'settings'> & { present: Partial<Record<CredentialField, boolean>> }): string[] {
  return REQUIRED_CREDENTIALS[providerNameFor(channel)]
    .filter(([field]) => !channel.present[field])
    .map(([field, label]) => `${label} (${field})`);
}

/** `settings.provider` when it names a known provider, else the channel type's default. */
export function providerNameFor(channel: Pick<ProviderChannel, 'channel_type' | 'settings'>): ProviderName {
  const chosen = channel.settings?.provider;
  return isProviderName(chosen) ? chosen : defaultProviderName(channel.channel_type);
}
