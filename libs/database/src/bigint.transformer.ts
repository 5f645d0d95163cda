import { ValueTransformer } from 'typeorm';

/**
 * Money columns are bigint in PostgreSQL and integer minor units in TypeScript. `pg` returns
 * bigint as a string; this turns it into a number and refuses anything beyond 2^53 rather than
 * silently rounding.
 */
export const bigintNumber: ValueTransformer = {
  to: (v?: number | null) => v,
  from: (v?: string | null) => {
    if (v === null || v === undefined) return v;
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new Error(`bigint ${v} is beyond the safe integer range`);
    return n;
  },
};
