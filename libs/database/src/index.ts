export { startEmbeddedPostgres } from './embedded-postgres';
export type { EmbeddedPostgres } from './embedded-postgres';
export { dataSourceOptions, runMigrations } from './data-source';
export { inTransaction, isUniqueViolation, PG_UNIQUE_VIOLATION } from './transaction';
export { bigintNumber } from './bigint.transformer';
export { MIGRATIONS } from './migrations';
