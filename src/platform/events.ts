// The transactional outbox: a service records its event in the same transaction as the change it
// reports, so an event exists exactly when its change committed. Delivery to listeners reads these
// rows (issue #3); nothing here is in-memory.
import type { Tx } from './tenancy.js';

export interface EventPayloads {
  'sale.created': { sale_id: string; invoice_no: string; total: string; customer_id: string };
  'production.created': { production_order_id: string; order_no: string; sale_id: string; customer_id: string };
  'production.step.completed': { production_order_id: string; order_no: string; step_id: string; step_name: string; sale_id: string; customer_id: string };
  'production.completed': { production_order_id: string; order_no: string; sale_id: string; customer_id: string };
  'order.ready': { production_order_id: string; order_no: string; sale_id: string; customer_id: string };
  'payment.received': { payment_id: string; amount: string; sale_id: string; balance: string; invoice_no: string; customer_id: string };
}
export type EventType = keyof EventPayloads;

export async function recordEvent<E extends EventType>(tx: Tx, businessId: string, type: E, payload: EventPayloads[E]): Promise<number> {
  const r = await tx.query<{ id: number }>(
    `INSERT INTO events (business_id, type, payload) VALUES ($1, $2, $3) RETURNING id`,
    [businessId, type, JSON.stringify(payload)],
  );
  return r.rows[0].id;
}
