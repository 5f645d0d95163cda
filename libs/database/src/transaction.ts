import { DataSource, EntityManager } from 'typeorm';

/** PostgreSQL error codes the domain cares about. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_SERIALIZATION_FAILURE = '40001';
export const PG_DEADLOCK = '40P01';

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === PG_UNIQUE_VIOLATION && (!constraint || name === constraint);
}

/**
 * Runs `work` in one transaction (READ COMMITTED). Every multi-row change goes through here.
 * Deadlocks and serialization failures are retried a few times: the work must be safe to repeat.
 */
export async function inTransaction<T>(ds: DataSource, work: (em: EntityManager) => Promise<T>, retries = 3): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ds.transaction(work);
    } catch (err) {
      const code = (err as { code?: string; driverError?: { code?: string } })?.driverError?.code ?? (err as { code?: string })?.code;
      if (attempt < retries && (code === PG_DEADLOCK || code === PG_SERIALIZATION_FAILURE)) continue;
      throw err;
    }
  }
}
