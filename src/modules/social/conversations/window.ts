// When the shop may write free text to a customer, and how much: the providers' rules (PROTOCOLS.md).
// Pure: the reply service, the notifier and the console's view of a conversation all read these.
import { providerNameFor, type ChannelType, type ProviderName } from '../providers/provider.js';

export type WindowRule = 'whatsapp_24h' | 'messenger_24h' | 'none';

const DAY_MS = 24 * 3600 * 1000;

/**
 * WhatsApp (Cloud API and Twilio alike) and Messenger/Instagram allow free text only within 24 hours
 * of the customer's last message (Messenger's standard window); Telegram has no such window.
 */
export function windowRule(channelType: ChannelType): WindowRule {
  switch (channelType) {
    case 'whatsapp': return 'whatsapp_24h';
    case 'facebook':
    case 'instagram': return 'messenger_24h';
    default: return 'none';
  }
}

export interface ReplyWindow {
  rule: WindowRule;
  open: boolean;
  /** When free text stops being allowed (null: no window, or the customer never wrote). */
  closes_at: string | null;
}

export function replyWindow(channelType: ChannelType, lastInboundAt: Date | string | null, now = Date.now()): ReplyWindow {
  const rule = windowRule(channelType);
  if (rule === 'none') return { rule, open: true, closes_at: null };
  if (!lastInboundAt) return { rule, open: false, closes_at: null };
  const closes = new Date(lastInboundAt).getTime() + DAY_MS;
  return { rule, open: closes > now, closes_at: new Date(closes).toISOString() };
}

/**
 * The longest text each provider takes in one message: WhatsApp Cloud API and Telegram 4096,
 * Twilio's Body 1600, Messenger's Send API 2000, Instagram 1000.
 */
const PROVIDER_TEXT_LIMIT: Record<Exclude<ProviderName, 'sandbox'>, number> = {
  meta: 4096, twilio: 1600, messenger: 2000, instagram: 1000, telegram: 4096,
};
const CHANNEL_TEXT_LIMIT: Record<ChannelType, number> = { whatsapp: 4096, facebook: 2000, instagram: 1000, telegram: 4096 };

/** The text limit of a channel: its provider's, or (sandbox) its channel type's. */
export function textLimit(channel: { channel_type: ChannelType; settings: Record<string, any> }): number {
  const provider = providerNameFor(channel);
  return provider === 'sandbox' ? CHANNEL_TEXT_LIMIT[channel.channel_type] : PROVIDER_TEXT_LIMIT[provider];
}

/** Text length as the providers count it: in characters (code points), so an emoji counts once. */
export function textLength(text: string): number {
  return [...text].length;
}
