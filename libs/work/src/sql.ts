import { EntityManager } from 'typeorm';

export interface SqlResult<R> {
  rows: R[];
  /** Rows changed by an UPDATE / DELETE / INSERT: the count that decides a race. */
  affected: number;
}

/**
 * Raw SQL with a uniform result (TypeORM's `query` returns [rows, count] for UPDATE but rows for
 * everything else). Runs on the manager's transaction when there is one; otherwise the statement
 * is its own transaction, which the one-statement claim relies on.
 */
export async function sql<R = Record<string, unknown>>(em: EntityManager, query: string, params: unknown[] = []): Promise<SqlResult<R>> {
  const qr = em.queryRunner ?? em.connection.createQueryRunner();
  try {
    const r = await qr.query(query, params, true);
    return { rows: (r.records ?? []) as R[], affected: r.affected ?? 0 };
  } finally {
    if (!em.queryRunner) await qr.release();
  }
}
