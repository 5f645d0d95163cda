export { DomainError, notFound, conflict, forbidden, unprocessable, invalidField } from './domain-error';
export type { ErrorKind, FieldProblem } from './domain-error';
export { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, clampPage } from './pagination';
export type { Page } from './pagination';
export { Clock, SystemClock } from './clock';
export { seededRandom } from './seeded-random';
