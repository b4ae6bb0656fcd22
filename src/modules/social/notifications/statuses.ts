// Delivery status callbacks move an outbound message forward only: pending → sent → delivered →
// read, or failed (from pending or sent). A late "delivered" after "read" changes nothing. A status
// for a provider id we have not stored yet is kept and applied when the send is recorded.
import type { Tx } from '../../../platform/tenancy.js';

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';
const RANK: Record<string, number> = { pending: 0, sent: 1, delivered: 2, read: 3 };

/** Maps a provider's word to ours: WhatsApp's "played" (voice) counts as read. */
export function normaliseStatus(s: string): DeliveryStatus | undefined {
  const v = s.toLowerCase();
  if (v === 'played') return 'read';
  if (v === 'sent' || v === 'delivered' || v === 'read' || v === 'failed') return v;
  if (v === 'undelivered') return 'failed';
  return undefined;
}

export async function applyStatus(tx: Tx, businessId: string, channelId: string, providerMessageId: string, status: DeliveryStatus,
  error?: { code?: string; message?: string }): Promise<'applied' | 'ignored' | 'kept'> {
  const m = (await tx.query(
    `SELECT id, status FROM social_messages WHERE channel_id = $1 AND provider_message_id = $2 AND direction = 'outbound' FOR UPDATE`,
    [channelId, providerMessageId])).rows[0];
  if (!m) {
    await tx.query(
      `INSERT INTO social_pending_statuses (business_id, channel_id, provider_message_id, status, error_code, error_message)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [businessId, channelId, providerMessageId, status, error?.code ?? null, error?.message ?? null]);
    return 'kept';
  }
  if (m.status === 'failed') return 'ignored';
  if (status === 'failed') {
    if (RANK[m.status] > RANK.sent) return 'ignored';
    await tx.query(`UPDATE social_messages SET status = 'failed', error_code = $2, error_message = $3, updated_at = now() WHERE id = $1`,
      [m.id, error?.code ?? null, error?.message ?? null]);
    return 'applied';
  }
  if (RANK[status] <= RANK[m.status]) return 'ignored';
  await tx.query(
    `UPDATE social_messages SET status = $2, updated_at = now(),
       delivered_at = CASE WHEN $2 IN ('delivered', 'read') THEN coalesce(delivered_at, now()) ELSE delivered_at END,
       read_at = CASE WHEN $2 = 'read' THEN now() ELSE read_at END
     WHERE id = $1`, [m.id, status]);
  return 'applied';
}

/** Applies statuses that arrived before the send was recorded, in their natural order. */
export async function applyPendingStatuses(tx: Tx, channelId: string, providerMessageId: string) {
  const r = await tx.query(
    `DELETE FROM social_pending_statuses WHERE channel_id = $1 AND provider_message_id = $2
     RETURNING business_id, status, error_code, error_message`, [channelId, providerMessageId]);
  const order = ['sent', 'delivered', 'read', 'failed'];
  for (const s of r.rows.sort((a: any, b: any) => order.indexOf(a.status) - order.indexOf(b.status))) {
    await applyStatus(tx, s.business_id, channelId, providerMessageId, s.status, { code: s.error_code, message: s.error_message });
  }
}
