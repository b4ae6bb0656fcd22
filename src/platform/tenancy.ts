// Every unit of work is one transaction run as the unprivileged application role with the
// business set transaction-locally, so row-level security decides what a query can see even when
// it forgets its WHERE business_id, and nothing leaks between pooled connections (or PgBouncer
// transaction-mode backends).
import type { Database, Queryable, TxHandle } from './db.js';

export const APP_ROLE = 'karigar_app';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A tenant transaction: queries, plus work to do only once it has committed. */
export interface Tx extends Queryable {
  readonly db: Database;
  readonly handle: TxHandle;
  afterCommit(fn: () => void): void;
}

async function run<T>(db: Database, businessId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const after: (() => void)[] = [];
  // A validated UUID may be written into the set-up script as a literal: role and business are then
  // set in the same round trip as BEGIN. Anything else goes as a parameter, as before.
  const literal = businessId === null || UUID.test(businessId);
  const setup = `SET LOCAL ROLE ${APP_ROLE}` + (businessId && literal ? `; SELECT set_config('app.business_id', '${businessId}', true)` : '');
  const result = await db.transaction(async (handle) => {
    if (businessId && !literal) await handle.query(`SELECT set_config('app.business_id', $1, true)`, [businessId]);
    const tx: Tx = {
      db,
      handle,
      query: (sql, params) => handle.query(sql, params),
      afterCommit: (f) => { after.push(f); },
    };
    return fn(tx);
  }, { setup });
  for (const f of after) f();
  return result;
}

/** Runs fn as one transaction of one business. */
export function withTenant<T>(db: Database, businessId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return run(db, businessId, fn);
}

/**
 * Runs fn as the application role with no business set: only the global tables (the login index,
 * channel routes) are visible. Used before a business is known.
 */
export function withoutTenant<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return run(db, null, fn);
}
