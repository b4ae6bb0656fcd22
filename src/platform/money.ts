// Money is exact decimal: strings with at most two places on the wire, numeric(12,2) in the
// database, arithmetic in SQL or in integer minor units here. Never binary floats.
import { Type } from '@sinclair/typebox';
import { badRequest } from './errors.js';

const MONEY_RE = /^(0|[1-9]\d{0,9})(\.\d{1,2})?$/;

/** Accepts "1250", "1250.5", "1250.00" or the JSON numbers 1250 / 1250.5. */
export const MoneyInput = Type.Union([
  Type.String({ pattern: MONEY_RE.source, description: 'decimal amount, e.g. "1250.00"' }),
  Type.Number({ minimum: 0, maximum: 9999999999.99 }),
]);

export const Money = Type.String({ pattern: '^-?\\d+\\.\\d{2}$', examples: ['1250.00'] });

/** Normalises money input to a two-place decimal string; more than two places is a 400. */
export function toMoney(v: string | number, field = 'amount'): string {
  const s = typeof v === 'number' ? String(v) : v;
  if (!MONEY_RE.test(s)) throw badRequest(`Invalid ${field}`, [{ field, message: 'must be an amount with at most two decimal places' }]);
  const [int, frac = ''] = s.split('.');
  return `${BigInt(int)}.${(frac + '00').slice(0, 2)}`;
}

/** Minor units (paise, cents) as a BigInt, for exact comparisons. */
export function toMinor(v: string): bigint {
  const neg = v.startsWith('-');
  const [int, frac = ''] = (neg ? v.slice(1) : v).split('.');
  const minor = BigInt(int) * 100n + BigInt((frac + '00').slice(0, 2));
  return neg ? -minor : minor;
}

export function fromMinor(m: bigint): string {
  const neg = m < 0n;
  const a = neg ? -m : m;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

export function isPositive(v: string): boolean {
  return toMinor(v) > 0n;
}
