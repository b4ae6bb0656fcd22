// Where a customer's notification goes, and why (the reason is recorded on the message):
//   1. the conversation the customer last wrote from, when its channel is on and its reply window
//      allows free text (Telegram always; WhatsApp and Messenger within 24 hours);
//   2. else WhatsApp by their mobile — a template outside the window — on, in order: the WhatsApp
//      channel they last used, the one marked settings.default: true, the oldest real (non-sandbox)
//      one, and only then a sandbox one (a trial set-up with nothing real). A leftover sandbox
//      channel never takes notifications from a real number;
//   3. else nowhere.
//
// The candidates are read by the notifier's one statement that reads the event (DESTINATION_COLUMNS
// and DESTINATION_JOINS): on this 2-core machine a round trip to the database costs more CPU than
// the lookups themselves. The choice is then made here (chooseDestination), and the conversation is
// opened only for a notification that will be written (openDestination): a notification switched
// off for its channel writes nothing.
import type { Tx } from '../../../platform/tenancy.js';
import { openConversation } from '../conversations/conversations.repo.js';
import { CHANNEL_COLUMNS, channelColumns } from '../channels/channels.service.js';
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

/** A destination chosen, its conversation not yet opened (undefined: it must be opened, or linked to the customer). */
export interface ChosenDestination extends Omit<Destination, 'conversation_id' | 'in_window'> {
  conversation: { id: string; last_inbound_at: Date | string | null } | undefined;
}

// A channel that can send: on, with its credentials complete and accepted (an incomplete channel,
// or one whose token the provider refused, sends nothing until the owner fixes it).
const SENDABLE = `ch.is_active AND ch.status = 'active'`;

/** Prefixed columns of one candidate row, so several fit in one result row. */
const columnsOf = (alias: string, names: readonly string[]) => names.map((n) => `${alias}.${n} AS ${alias}_${n}`).join(', ');
function candidate(row: Record<string, any>, alias: string, names: readonly string[]): Record<string, any> {
  const out: Record<string, any> = {};
  for (const n of names) out[n] = row[`${alias}_${n}`];
  return out;
}

const LAST_USED = ['conversation_id', 'address', 'last_inbound_at', ...CHANNEL_COLUMNS];
const WHATSAPP = [...CHANNEL_COLUMNS, 'last_used_at', 'sandbox', 'is_default'];

/** The candidates' columns, for the select list of a statement with DESTINATION_JOINS. */
export const DESTINATION_COLUMNS = `${columnsOf('lu', LAST_USED)}, ${columnsOf('wa', WHATSAPP)}, wc.id AS wc_id, wc.customer_id AS wc_customer_id, wc.last_inbound_at AS wc_last_inbound_at`;

/**
 * The candidates of a customer `c` (with `c.id` and `c.mobile`) in the statement's business, each
 * found by a key: lu, the conversation they last wrote from (1.); wa, the WhatsApp channel (2.);
 * wc, the conversation with their mobile on it, if there is one.
 */
export const DESTINATION_JOINS = `
  LEFT JOIN LATERAL (
    SELECT v.id AS conversation_id, v.address, v.last_inbound_at, ${channelColumns('ch')}
    FROM conversations v JOIN social_channels ch ON ch.id = v.channel_id
    WHERE v.business_id = app_business_id() AND v.customer_id = c.id AND v.last_inbound_at IS NOT NULL AND ${SENDABLE}
    ORDER BY v.last_inbound_at DESC, v.id LIMIT 1) lu ON true
  LEFT JOIN LATERAL (
    SELECT ${channelColumns('ch')}, lastused.at AS last_used_at,
      coalesce(ch.settings->>'provider', 'meta') = 'sandbox' AS sandbox, coalesce((ch.settings->>'default') = 'true', false) AS is_default
    FROM social_channels ch
    LEFT JOIN LATERAL (SELECT max(v.last_inbound_at) AS at FROM conversations v
      WHERE v.business_id = app_business_id() AND v.channel_id = ch.id AND v.customer_id = c.id) lastused ON true
    WHERE c.mobile IS NOT NULL AND ch.channel_type = 'whatsapp' AND ${SENDABLE}
    ORDER BY lastused.at DESC NULLS LAST, coalesce((ch.settings->>'default') = 'true', false) DESC,
      (coalesce(ch.settings->>'provider', 'meta') = 'sandbox') ASC, ch.created_at, ch.id
    LIMIT 1) wa ON true
  LEFT JOIN LATERAL (
    SELECT v.id, v.customer_id, v.last_inbound_at FROM conversations v
    WHERE v.business_id = app_business_id() AND v.channel_id = wa.id AND v.address = c.mobile LIMIT 1) wc ON true`;

/** The destination from a row with DESTINATION_COLUMNS, or why there is none. */
export function chooseDestination(row: Record<string, any>, customer: { id: string; mobile: string | null }): ChosenDestination | { skip: string } {
  if (row.lu_id && replyWindow(row.lu_channel_type, row.lu_last_inbound_at).open) {
    const { conversation_id, address, last_inbound_at, ...channel } = candidate(row, 'lu', LAST_USED);
    return { channel, to: address, conversation: { id: conversation_id, last_inbound_at }, reason: 'last_used_channel' };
  }
  if (!customer.mobile) return { skip: 'the customer has no mobile and no open conversation' };
  if (!row.wa_id) return { skip: 'no active WhatsApp channel' };
  const { last_used_at, sandbox, is_default, ...channel } = candidate(row, 'wa', WHATSAPP);
  const reason: DestinationReason = last_used_at ? 'whatsapp_last_used' : is_default ? 'whatsapp_default' : sandbox ? 'whatsapp_sandbox' : 'whatsapp_oldest_real';
  // The conversation with the mobile, already the customer's: nothing to write. Otherwise it is
  // made, or linked to the customer, when the message is written.
  const conversation = row.wc_id && row.wc_customer_id === customer.id ? { id: row.wc_id as string, last_inbound_at: row.wc_last_inbound_at } : undefined;
  return { channel, to: customer.mobile, conversation, reason };
}

/** The chosen destination with its conversation open (made, or linked to the customer, if need be). */
export async function openDestination(tx: Tx, businessId: string, chosen: ChosenDestination, customerId: string): Promise<Destination> {
  const { conversation, ...rest } = chosen;
  if (chosen.reason === 'last_used_channel') return { ...rest, conversation_id: conversation!.id, in_window: true };
  const open = conversation ?? await openConversation(tx, { business_id: businessId, channel_id: chosen.channel.id, address: chosen.to, customer_id: customerId });
  return { ...rest, conversation_id: open.id, in_window: replyWindow('whatsapp', open.last_inbound_at).open };
}
