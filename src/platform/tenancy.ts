// Every unit of work is one transaction run as the unprivileged application role with the
// business set transaction-locally, so row-level security decides what a query can see even when
// it forgets its WHERE business_id, and nothing leaks between pooled connections (or PgBouncer
// transaction-mode backends).
import { literal, type Database, type Queryable, type TxHandle } from './db.js';

export const APP_ROLE = 'karigar_app';

/** A tenant transaction: queries, plus work to do only once it has committed. */
export interface Tx extends Queryable {
  readonly db: Database;
  readonly handle: TxHandle;
  afterCommit(fn: () => void): void;
}

/** The application role and the business (as a quoted literal), set transaction-locally. */
function setupScript(businessId: string | null): string {
  return `SET LOCAL ROLE ${APP_ROLE}` + (businessId ? `; SELECT set_config('app.business_id', ${literal(businessId)}, true)` : '');
}

async function run<T>(db: Database, businessId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const after: (() => void)[] = [];
  // Role and business go in the set-up script, in the same round trip as BEGIN.
  const setup = setupScript(businessId);
  const result = await db.transaction(async (handle) => {
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

/**
 * Runs a parameterless script (values inlined with literal()) as one transaction of one business,
 * in one round trip: BEGIN, the role and business, the statements and COMMIT in one message. For
 * hot single-statement work, where a transaction's four round trips would cost more than the work.
 * Returns the last statement's rows.
 */
export function tenantScript<T = any>(db: Database, businessId: string, sql: string): Promise<T[]> {
  return db.script<T>(`${setupScript(businessId)}; ${sql}`);
}
