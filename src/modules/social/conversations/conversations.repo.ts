// Filing messages in conversations: the few writes the webhook, the notifier, the ordering step
// and lead conversion share. No rules here and nothing above it imported, so every sender can
// use it without a loop back to the conversation service.
import { prepared } from '../../../platform/db.js';
import type { Tx } from '../../../platform/tenancy.js';

/**
 * The conversation of (channel, address), made if new; `customerId` links it when it has no
 * customer yet (a link made by staff is never overwritten). Returns its id and customer.
 */
export async function openConversation(tx: Tx, c: { business_id: string; channel_id: string; address: string; name?: string | null; customer_id?: string | null }) {
  const r = await tx.query<{ id: string; customer_id: string | null; lead_id: string | null; last_inbound_at: Date | null }>(prepared(
    `INSERT INTO conversations (business_id, channel_id, address, name, customer_id)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (business_id, channel_id, address) DO UPDATE
       SET name = coalesce(excluded.name, conversations.name), customer_id = coalesce(conversations.customer_id, excluded.customer_id)
     RETURNING id, customer_id, lead_id, last_inbound_at`),
    [c.business_id, c.channel_id, c.address, c.name ?? null, c.customer_id ?? null]);
  return r.rows[0];
}

/**
 * The UPDATE that files a message in a conversation: the latest becomes its last; an inbound one is
 * unread and opens the window. `m` is a row source with the message's id, created_at and
 * direction, `where` picks the conversation `v` and the message `m` (a statement that has just
 * written the message passes its RETURNING rows: the new row is not visible to the statement itself).
 */
export const noteMessageSql = (from: string, where: string) => `UPDATE conversations v SET
       last_message_id = CASE WHEN m.created_at >= coalesce(v.last_message_at, '-infinity') THEN m.id ELSE v.last_message_id END,
       last_message_at = greatest(v.last_message_at, m.created_at),
       unread = v.unread + CASE WHEN m.direction = 'inbound' THEN 1 ELSE 0 END,
       last_inbound_at = CASE WHEN m.direction = 'inbound' THEN greatest(v.last_inbound_at, m.created_at) ELSE v.last_inbound_at END,
       updated_at = now()
     FROM ${from} WHERE ${where}`;

const NOTE_MESSAGE = prepared(noteMessageSql('social_messages m', 'v.id = $1 AND m.id = $2'));

/** A new message in a conversation (see noteMessageSql). */
export async function noteMessage(tx: Tx, conversationId: string, messageId: string) {
  await tx.query(NOTE_MESSAGE, [conversationId, messageId]);
}

/**
 * An inbound message, already stored, filed in its conversation: the message takes the
 * conversation's customer when it has one, and the conversation notes the message. The webhook
 * stores the message first and opens the conversation after, so it never holds the conversation
 * while waiting on a concurrent copy of the same message (the worker locks message, then
 * conversation: the other order deadlocks).
 */
export async function fileInbound(tx: Tx, conversationId: string, messageId: string, customerId: string | null) {
  await tx.query(`UPDATE social_messages SET conversation_id = $1, customer_id = coalesce($3, customer_id) WHERE id = $2`,
    [conversationId, messageId, customerId]);
  await noteMessage(tx, conversationId, messageId);
}

/** Links a conversation (and its messages) to a customer: one of the customer's contacts. */
export async function linkConversation(tx: Tx, conversationId: string, customerId: string) {
  await tx.query(`UPDATE conversations SET customer_id = $2, updated_at = now() WHERE id = $1`, [conversationId, customerId]);
  await tx.query(`UPDATE social_messages SET customer_id = $2 WHERE conversation_id = $1 AND customer_id IS DISTINCT FROM $2`, [conversationId, customerId]);
}
