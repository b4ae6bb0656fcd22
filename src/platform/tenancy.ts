// Every unit of work is one transaction run as the unprivileged application role with the
// business set transaction-locally, so row-level security decides what a query can see even when
// it forgets its WHERE business_id, and nothing leaks between pooled connections (or PgBouncer
// transaction-mode backends).
import type { Database, Queryable } from './db.js';

export const APP_ROLE = 'karigar_app';

export type Tx = Queryable;

/** Runs fn as one transaction of one business. */
export function withTenant<T>(db: Database, businessId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL ROLE ${APP_ROLE}`);
    await tx.query(`SELECT set_config('app.business_id', $1, true)`, [businessId]);
    return fn(tx);
  });
}

/**
 * Runs fn as the application role with no business set: only the global tables (the login index)
 * are visible. Used before a business is known, e.g. to find a user's business at login.
 */
export function withoutTenant<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL ROLE ${APP_ROLE}`);
    return fn(tx);
  });
}
