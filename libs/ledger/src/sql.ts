import { EntityManager } from 'typeorm';

/**
 * Raw SQL on the caller's transaction (em.queryRunner) when there is one, with a uniform result:
 * TypeORM's `query` returns [rows, count] for UPDATE but rows for everything else.
 */
export async function sql<R = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[] = []): Promise<{ rows: R[]; affected: number }> {
  const qr = em.queryRunner ?? em.connection.createQueryRunner();
  try {
    const r = await qr.query(text, params, true);
    return { rows: (r.records ?? []) as R[], affected: r.affected ?? 0 };
  } finally {
    if (!em.queryRunner) await qr.release();
  }
}

/** A bigint column (string from pg) as a safe number; refuses silent rounding. */
export function num(v: string | number | null | undefined): number {
  if (v === null || v === undefined) return 0;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${v} is beyond the safe integer range`);
  return n;
}
