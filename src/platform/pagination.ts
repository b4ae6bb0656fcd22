// Cursor pagination over (created_at, id), newest first. The cursor is opaque to clients; it holds
// the database's own text for created_at so no precision is lost between pages.
import { Type } from '@sinclair/typebox';
import { badRequest } from './errors.js';

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

export interface Cursor {
  ts: string;
  id: string;
}

const TS_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const [ts, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof ts === 'string' && typeof id === 'string' && TS_RE.test(ts) && /^[0-9a-f-]{36}$/i.test(id)) return { ts, id };
  } catch {
    /* fall through */
  }
  throw badRequest('Invalid cursor', [{ field: 'cursor', message: 'is not a cursor this API returned' }]);
}

/**
 * Given rows fetched with limit + 1 and a `cursor_ts` column, returns the page and the next cursor.
 */
export function page<T extends { id: string; cursor_ts: string }>(rows: T[], limit: number) {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  const next_cursor = more && last ? Buffer.from(JSON.stringify([last.cursor_ts, last.id])).toString('base64url') : null;
  return { data: data.map(({ cursor_ts, ...rest }) => rest) as any[], next_cursor };
}

/** SQL fragment and params for "after this cursor", newest first. */
export function cursorClause(cursor: Cursor | undefined, alias: string, nextParam: number, column = 'created_at'): { sql: string; params: unknown[] } {
  if (!cursor) return { sql: '', params: [] };
  return {
    sql: ` AND (${alias}.${column}, ${alias}.id) < ($${nextParam}::timestamptz, $${nextParam + 1}::uuid)`,
    params: [cursor.ts, cursor.id],
  };
}
