import { MturkErrors } from './mturk.errors';

/** MTurk money: USD as a decimal string ("0.05"). Tally: integer minor units (cents). */
export const MTURK_CURRENCY = 'usd';

/** "0.05" → 5. At most two decimals, never negative, never a float on the way. */
export function parseAmount(name: string, v: unknown, opts: { min?: number } = {}): number {
  if (typeof v !== 'string' || !/^\d{1,9}(\.\d{1,2})?$/.test(v.trim())) throw MturkErrors.parameter(name, 'must be a decimal string in US dollars with at most two decimals, e.g. "0.05"');
  const [units, frac = ''] = v.trim().split('.');
  const minor = Number(units) * 100 + Number(frac.padEnd(2, '0'));
  if (opts.min !== undefined && minor < opts.min) throw MturkErrors.parameter(name, `must be at least ${formatAmount(opts.min)}`);
  return minor;
}

/** 5 → "0.05"; -120 → "-1.20". */
export function formatAmount(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
