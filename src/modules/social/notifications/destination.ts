// Where a customer's notification goes, and why (the reason is recorded on the message):
//   1. the conversation the customer last wrote from, when its channel is on and its reply window
//      allows free text (Telegram always; WhatsApp and Messenger within 24 hours);
//   2. else WhatsApp by their mobile — a template outside the window — on, in order: the WhatsApp
//      channel they last used, the one marked settings.default: true, the oldest real (non-sandbox)
//      one, and only then a sandbox one (a trial set-up with nothing real). A leftover sandbox
//      channel never takes notifications from a real number;
//   3. else nowhere.
import { prepared } from '../../../platform/db.js';
import type { Tx } from '../../../platform/tenancy.js';
import { openConversation } from '../conversations/conversations.repo.js';
import { channelColumns } from '../channels/channels.service.js';
import { replyWindow } from '../conversations/window.js';

export type DestinationReason = 'last_used_channel' | 'whatsapp_last_used' | 'whatsapp_default' | 'whatsapp_oldest_real' | 'whatsapp_sandbox';

export interface Destination {
  /** The channel's row (channelColumns(): its secrets still encrypted). */
  channel: Record<string, any>;
  to: string;
  conversation_id: string;
  reason: DestinationReason;
  /** Free text allowed (inside the reply window, or a channel without one). */
  in_window: boolean;
}

// A channel that can send: on, with its credentials complete and accepted (an incomplete channel,
// or one whose token the provider refused, sends nothing until the owner fixes it).
const SENDABLE = `ch.is_active AND ch.status = 'active'`;

/** 1. The conversation the customer last wrote from, on a channel that can send. */
const LAST_USED_CONVERSATION = prepared(
  `SELECT v.id AS conversation_id, v.address, v.last_inbound_at, ${channelColumns('ch')}
   FROM conversations v JOIN social_channels ch ON ch.id = v.channel_id
   WHERE v.customer_id = $1 AND v.last_inbound_at IS NOT NULL AND ${SENDABLE}
   ORDER BY v.last_inbound_at DESC, v.id LIMIT 1`);

/** 2. The WhatsApp channel, in the order above. */
const WHATSAPP_CHANNEL = prepared(
  `SELECT ${channelColumns('ch')}, lastused.at AS last_used_at,
     coalesce(ch.settings->>'provider', 'meta') = 'sandbox' AS sandbox, coalesce((ch.settings->>'default') = 'true', false) AS is_default
   FROM social_channels ch
   LEFT JOIN LATERAL (SELECT max(v.last_inbound_at) AS at FROM conversations v WHERE v.channel_id = ch.id AND v.customer_id = $1) lastused ON true
   WHERE ch.channel_type = 'whatsapp' AND ${SENDABLE}
   ORDER BY lastused.at DESC NULLS LAST, coalesce((ch.settings->>'default') = 'true', false) DESC,
     (coalesce(ch.settings->>'provider', 'meta') = 'sandbox') ASC, ch.created_at, ch.id
   LIMIT 1`);

export async function notificationDestination(tx: Tx, businessId: string, customer: { id: string; mobile: string | null }): Promise<Destination | { skip: string }> {
  const last = (await tx.query(LAST_USED_CONVERSATION, [customer.id])).rows[0];
  if (last && replyWindow(last.channel_type, last.last_inbound_at).open) {
    const { conversation_id, address, last_inbound_at, ...channel } = last;
    return { channel, to: address, conversation_id, reason: 'last_used_channel', in_window: true };
  }
  if (!customer.mobile) return { skip: 'the customer has no mobile and no open conversation' };

  const wa = (await tx.query(WHATSAPP_CHANNEL, [customer.id])).rows[0];
  if (!wa) return { skip: 'no active WhatsApp channel' };
  const reason: DestinationReason = wa.last_used_at ? 'whatsapp_last_used' : wa.is_default ? 'whatsapp_default' : wa.sandbox ? 'whatsapp_sandbox' : 'whatsapp_oldest_real';
  const conversation = await openConversation(tx, { business_id: businessId, channel_id: wa.id, address: customer.mobile, customer_id: customer.id });
  const { last_used_at, sandbox, is_default, ...channel } = wa;
  return {
    channel, to: customer.mobile, conversation_id: conversation.id,
    reason, in_window: replyWindow('whatsapp', conversation.last_inbound_at).open,
  };
}
