/** Pagination shared by every list endpoint: a page is capped so no request can ask for everything. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export function clampPage(limit?: number, offset?: number): { limit: number; offset: number } {
  return {
    limit: Math.min(Math.max(1, Math.trunc(limit ?? DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE),
    offset: Math.max(0, Math.trunc(offset ?? 0)),
  };
}
