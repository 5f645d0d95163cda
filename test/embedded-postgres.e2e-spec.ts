import { Pool } from 'pg';

/**
 * `npm start` on a fresh machine runs on the embedded PGlite with a pool of connections: many
 * clients' queries and transactions at once must each get their own answers. Runs against the
 * embedded server the global setup starts (TALLY_EMBEDDED_URL), in a table of its own (PGlite has one session, so no per-connection settings).
 */
describe('embedded PostgreSQL under concurrent clients', () => {
  let pool: Pool;

  beforeAll(async () => {
    pool = new Pool({ connectionString: process.env.TALLY_EMBEDDED_URL, max: 20 });
    await pool.query('DROP TABLE IF EXISTS embedded_check');
    await pool.query('CREATE TABLE embedded_check (id int PRIMARY KEY, v int NOT NULL)');
  });
  afterAll(async () => {
    await pool.query('DROP TABLE embedded_check');
    await pool.end();
  });

  it('keeps parameterized queries and transactions of 20 connections apart', async () => {
    const wrong: string[] = [];
    await Promise.all(
      Array.from({ length: 1500 }, async (_, i) => {
        if (i % 3 === 0) {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('INSERT INTO embedded_check VALUES ($1, $2)', [i, i * 2]);
            const { rows } = await c.query('SELECT v FROM embedded_check WHERE id = $1', [i]);
            if (rows[0]?.v !== i * 2) wrong.push(`tx ${i}: ${JSON.stringify(rows)}`);
            await c.query(i % 2 ? 'COMMIT' : 'ROLLBACK');
          } finally {
            c.release();
          }
        } else {
          const { rows } = await pool.query('SELECT $1::int * 2 AS v, $2::text AS s', [i, `x${i}`]);
          if (rows[0].v !== i * 2 || rows[0].s !== `x${i}`) wrong.push(`query ${i}: ${JSON.stringify(rows)}`);
        }
      }),
    );
    expect(wrong).toEqual([]);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM embedded_check');
    expect(rows[0].n).toBe(250); // the odd multiples of 3 below 1500 committed
  });

  it('keeps serving after a statement fails', async () => {
    await expect(pool.query('SELECT 1 / $1::int', [0])).rejects.toThrow(/division by zero/);
    const results = await Promise.all([1, 2, 3].map((n) => pool.query('SELECT $1::int AS n', [n])));
    expect(results.map((r) => r.rows[0].n)).toEqual([1, 2, 3]);
  });
});
