// Small readers shared by the parsers: they look at `unknown` JSON and either answer a typed value
// or null, or (the `need*` ones) throw PayloadError naming the path that is wrong.
import { PayloadError } from './types.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object at `v`, or a PayloadError naming `path`. */
export function needObj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new PayloadError(`${path} must be an object`);
  return v;
}

/** The array at `v`, or a PayloadError naming `path`. */
export function needArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new PayloadError(`${path} must be an array`);
  return v;
}

/** The array at `v`; an absent field is an empty list, anything else a PayloadError. */
export function optArray(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  return needArray(v, path);
}

/** A non-empty string (numbers, as some ids arrive, are turned into their decimal text), else null. */
export function str(v: unknown): string | null {
  if (typeof v === 'string') return v.length > 0 ? v : null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  return null;
}

/** A non-empty string or number id at `v`, or a PayloadError naming `path`. */
export function needId(v: unknown, path: string): string {
  const s = str(v);
  if (s === null) throw new PayloadError(`${path} must be a non-empty string`);
  return s;
}

/** A finite number from a number or a numeric string, else null. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** A Date from Unix seconds (number or numeric string), else null. */
export function fromSeconds(v: unknown): Date | null {
  const n = num(v);
  if (n === null || n < 0) return null;
  const d = new Date(n * 1000);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A Date from Unix milliseconds (number or numeric string), else null. */
export function fromMillis(v: unknown): Date | null {
  const n = num(v);
  if (n === null || n < 0) return null;
  const d = new Date(n);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A copy of `o` without the keys whose value is undefined or null. */
export function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

/** A string as sent (spaces kept); an empty or missing one is null. */
export function rawText(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}
