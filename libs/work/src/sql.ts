import { DataSource, EntityManager } from 'typeorm';

export interface SqlResult<R> {
  rows: R[];
  /** Rows changed by an UPDATE / DELETE / INSERT: the count that decides a race. */
  affected: number;
}

/**
 * Raw SQL with a uniform result (TypeORM's `query` returns [rows, count] for UPDATE but rows for
 * everything else). Runs on the manager's transaction when there is one; otherwise the statement
 * is its own transaction, which the one-statement claim relies on.
 *
 * `name` (hot paths only: claim, submit) makes it a named prepared statement on the pg connection:
 * PostgreSQL parses and plans it once per connection instead of on every call (planning was about
 * half of the server's time on the claim's context query). Not on the embedded PGlite, whose one
 * backend session is shared by every socket (two connections preparing the same name would clash).
 */
export async function sql<R = Record<string, unknown>>(em: EntityManager, query: string, params: unknown[] = [], name?: string): Promise<SqlResult<R>> {
  if (name && !em.queryRunner && (await preparedStatementsSupported(em.connection))) {
    // Outside a transaction: straight on the driver's pg pool (no TypeORM query runner per call).
    const pool = (em.connection.driver as unknown as { master?: PgQueryable<R> }).master;
    if (pool) {
      const r = await pool.query({ name: `tally_${name}`, text: query, values: params });
      return { rows: r.rows, affected: r.rowCount ?? 0 };
    }
  }
  const qr = em.queryRunner ?? em.connection.createQueryRunner();
  try {
    if (name && (await preparedStatementsSupported(em.connection))) {
      const client = (await qr.connect()) as PgQueryable<R>;
      const r = await client.query({ name: `tally_${name}`, text: query, values: params });
      return { rows: r.rows, affected: r.rowCount ?? 0 };
    }
    const r = await qr.query(query, params, true);
    return { rows: (r.records ?? []) as R[], affected: r.affected ?? 0 };
  } finally {
    if (!em.queryRunner) await qr.release();
  }
}

interface PgQueryable<R> {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[]; rowCount: number | null }>;
}

const prepared = new WeakMap<DataSource, Promise<boolean>>();

/** Whether the server keeps prepared statements per connection (a real PostgreSQL, not PGlite). Asked once per DataSource. */
function preparedStatementsSupported(ds: DataSource): Promise<boolean> {
  let p = prepared.get(ds);
  if (!p) {
    p = ds.query(`SELECT version() AS v`).then(
      (rows: { v: string }[]) => !/pglite|emscripten|wasm/i.test(rows[0]?.v ?? ''),
      () => {
        prepared.delete(ds); // could not tell (database unreachable): ask again next time
        return false;
      },
    );
    prepared.set(ds, p);
  }
  return p;
}
