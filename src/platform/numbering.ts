// Gapless per-business numbers (INV-000001, PO-000001). The counter row is locked by the UPDATE
// until the transaction ends, so concurrent finalizes take turns, and a rollback returns the
// number: no gaps, no duplicates.
import type { Tx } from './tenancy.js';

export async function nextNumber(tx: Tx, businessId: string, counter: string, prefix: string): Promise<string> {
  const r = await tx.query<{ value: number }>(
    `INSERT INTO counters (business_id, name, value) VALUES ($1, $2, 1)
     ON CONFLICT (business_id, name) DO UPDATE SET value = counters.value + 1
     RETURNING value`,
    [businessId, counter],
  );
  return `${prefix}${String(r.rows[0].value).padStart(6, '0')}`;
}
