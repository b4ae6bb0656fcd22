// A stored history for measuring against (the bench's seed-history.ts) and for checking query
// plans (query-plans.test.ts): businesses with customers, conversations, a message log, sales and
// leads, written set-based.
import type { Database } from '../../src/platform/db.js';

export interface HistorySize { businesses: number; customersPer: number; messagesPerConversation: number; salesPerCustomer: number }
/**
 * Stores a history in an open, migrated database (as the superuser: row-level security does not
 * apply): businesses, each with a WhatsApp channel, customers with one conversation each, a log of
 * messages in both directions (a few still unread), sales, and leads (half of them open).
 * Set-based, in one transaction.
 */
export async function seedHistory(db: Database, size: HistorySize, tag = 'History') {
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO businesses (id, name) SELECT gen_random_uuid(), $2 || ' shop ' || i FROM generate_series(1, $1::int) i`,
      [size.businesses, tag]);
    await tx.query(
      `INSERT INTO social_channels (business_id, channel_type, phone_number, account_id)
       SELECT id, 'whatsapp', '+9180' || lpad(n::text, 8, '0'), 'pnid-' || lower($1) || '-' || n
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM businesses WHERE name LIKE $1 || ' shop %') b`, [tag]);
    await tx.query(
      `INSERT INTO channel_routes (channel_type, address, business_id, channel_id)
       SELECT 'whatsapp', account_id, business_id, id FROM social_channels WHERE account_id LIKE 'pnid-' || lower($1) || '-%'`, [tag]);
    await tx.query(
      `INSERT INTO customers (business_id, name, mobile, created_at)
       SELECT b.id, 'Customer ' || c, '+9198' || lpad((b.n * 1000 + c)::text, 8, '0'), now() - c * interval '1 day'
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM businesses WHERE name LIKE $1 || ' shop %') b, generate_series(1, $2::int) c`,
      [tag, size.customersPer]);
    await tx.query(
      `INSERT INTO conversations (business_id, channel_id, address, name, customer_id, last_message_at, last_inbound_at)
       SELECT c.business_id, ch.id, c.mobile, c.name, c.id, now() - interval '1 day', now() - interval '1 day'
       FROM customers c JOIN social_channels ch ON ch.business_id = c.business_id
       JOIN businesses b ON b.id = c.business_id WHERE b.name LIKE $1 || ' shop %'`, [tag]);
    // Odd messages inbound, even ones the shop's answers; spread over the last year. Each
    // conversation's last inbound message is still unread (a backlog), the others read.
    await tx.query(
      `INSERT INTO social_messages (business_id, channel_id, direction, status, from_number, to_number, message_text, customer_id,
         conversation_id, intent, provider_message_id, created_at, updated_at)
       SELECT v.business_id, v.channel_id, CASE WHEN k % 2 = 1 THEN 'inbound' ELSE 'outbound' END,
         CASE WHEN k % 2 = 1 THEN 'received' ELSE 'sent' END,
         CASE WHEN k % 2 = 1 THEN v.address END, CASE WHEN k % 2 = 1 THEN '+919000000000' ELSE v.address END,
         'history message ' || k, v.customer_id, v.id, CASE WHEN k % 2 = 1 AND k < $2 - 1 THEN 'other' END,
         'wamid.' || lower($1) || '.' || v.id || '.' || k, t, t
       FROM conversations v JOIN businesses b ON b.id = v.business_id, generate_series(1, $2::int) k,
         LATERAL (SELECT now() - interval '2 days' - ((k * 37 + abs(hashtext(v.id::text)) % 365) % 365) * interval '1 day' AS t) ts
       WHERE b.name LIKE $1 || ' shop %'`, [tag, size.messagesPerConversation]);
    await tx.query(
      `INSERT INTO sales (business_id, customer_id, status, invoice_no, total, source, created_at, finalized_at)
       SELECT c.business_id, c.id, 'final', 'H-' || k || '-' || c.id, 100, 'pos', c.created_at, c.created_at
       FROM customers c JOIN businesses b ON b.id = c.business_id, generate_series(1, $2::int) k WHERE b.name LIKE $1 || ' shop %'`,
      [tag, size.salesPerCustomer]);
    await tx.query(
      `INSERT INTO leads (business_id, channel_id, name, mobile, sender_key, source, status, customer_id, created_at)
       SELECT v.business_id, v.channel_id, v.name, v.address, v.address, 'whatsapp',
         CASE WHEN abs(hashtext(v.id::text)) % 2 = 0 THEN 'new' ELSE 'converted' END, v.customer_id, now() - interval '30 days'
       FROM conversations v JOIN businesses b ON b.id = v.business_id WHERE b.name LIKE $1 || ' shop %'`, [tag]);
  });
}

