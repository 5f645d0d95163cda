/** Pagination shared by every list endpoint: a page is capped so no request can ask for everything. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
/** Largest offset a list accepts: past 2^63 PostgreSQL's OFFSET (bigint) failed, and the 400 could not say which value was wrong. */
export const MAX_PAGE_OFFSET = 1_000_000_000;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export function clampPage(limit?: number, offset?: number): { limit: number; offset: number } {
  return {
    limit: Math.min(Math.max(1, Math.trunc(limit ?? DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE),
    offset: Math.min(Math.max(0, Math.trunc(offset ?? 0)), MAX_PAGE_OFFSET),
  };
}
