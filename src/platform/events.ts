// The transactional outbox: a service records its event in the same transaction as the change it
// reports, and in that same transaction a durable job per listener is queued. The event exists
// exactly when its change committed, and a crash after the commit loses nothing: the job waits in
// the queue for any worker. Listeners are idempotent (they may run twice).
import type { Tx } from './tenancy.js';

export interface EventPayloads {
  'sale.created': { sale_id: string; invoice_no: string; total: string; customer_id: string };
  'production.created': { production_order_id: string; order_no: string; sale_id: string; customer_id: string };
  'production.step.completed': { production_order_id: string; order_no: string; step_id: string; step_name: string; sale_id: string; customer_id: string };
  'production.completed': { production_order_id: string; order_no: string; sale_id: string; customer_id: string };
  'order.ready': { production_order_id: string; order_no: string; sale_id: string; customer_id: string };
  'payment.received': { payment_id: string; amount: string; sale_id: string; balance: string; invoice_no: string; customer_id: string };
  'order.cancelled': { sale_id: string; invoice_no: string | null; total: string; production_order_id: string | null; order_no: string | null; customer_id: string };
  'lead.created': { lead_id: string; message_id: string; mobile: string | null };
  'message.received': { message_id: string; channel_id: string; customer_id: string | null };
}
export type EventType = keyof EventPayloads;

/** Which listener hears which events. Each listener is a queue of its own. */
export const LISTENERS: Record<string, readonly EventType[]> = {
  'listener.social': ['sale.created', 'production.created', 'production.step.completed', 'production.completed', 'order.ready', 'payment.received', 'order.cancelled'],
  'listener.inbound': ['message.received'],
};

export interface EventJob {
  business_id: string;
  event_id: number;
  type: EventType;
}

/**
 * Several events of one type and business in one job: the webhook's group commit queues one per
 * business and batch it stores (receive_messages(), migration 0010), not one per message.
 */
export interface EventsJob {
  business_id: string;
  event_ids: number[];
  type: EventType;
}

export async function recordEvent<E extends EventType>(tx: Tx, businessId: string, type: E, payload: EventPayloads[E]): Promise<number> {
  const r = await tx.query<{ id: number }>(
    `INSERT INTO events (business_id, type, payload) VALUES ($1, $2, $3) RETURNING id`,
    [businessId, type, JSON.stringify(payload)],
  );
  const id = r.rows[0].id;
  await queueEventJobs(tx, businessId, type, id);
  return id;
}

/** A job for each listener of the event `id`, in the transaction (an event recorded by SQL of its own). */
export async function queueEventJobs(tx: Tx, businessId: string, type: EventType, id: number): Promise<void> {
  const outbox = tx.db.outbox;
  if (!outbox) return;
  for (const [listener, types] of Object.entries(LISTENERS)) {
    if (!types.includes(type)) continue;
    const job: EventJob = { business_id: businessId, event_id: id, type };
    await outbox.enqueue(tx.handle, listener, job);
    tx.afterCommit(() => outbox.wake(listener));
  }
}
