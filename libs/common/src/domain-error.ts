/**
 * How a domain error should be understood by a caller. The API's one exception filter maps a
 * kind to an HTTP status; libs never throw HTTP exceptions themselves.
 */
export type ErrorKind =
  | 'invalid' // 400: the request is malformed or a field is wrong
  | 'unauthenticated' // 401
  | 'forbidden' // 403: the caller's role may not do this
  | 'not_found' // 404: no such object, or not one the caller may see
  | 'conflict' // 409: the object is not in a state that allows this
  | 'unprocessable' // 422: well-formed, but breaks a business rule
  | 'too_many'; // 429

export interface FieldProblem {
  field: string;
  problem: string;
}

/** An expected failure with a stable SCREAMING_SNAKE code, e.g. ASSIGNMENT_ALREADY_SUBMITTED. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly details?: { fields?: FieldProblem[]; [key: string]: unknown },
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (code: string, message: string) => new DomainError(code, 'not_found', message);
export const conflict = (code: string, message: string, details?: DomainError['details']) =>
  new DomainError(code, 'conflict', message, details);
export const forbidden = (code: string, message: string) => new DomainError(code, 'forbidden', message);
export const unprocessable = (code: string, message: string, details?: DomainError['details']) =>
  new DomainError(code, 'unprocessable', message, details);
/** A 400 naming the field and what is wrong with it. */
export const invalidField = (field: string, problem: string, code = 'VALIDATION_FAILED') =>
  new DomainError(code, 'invalid', `${field}: ${problem}`, { fields: [{ field, problem }] });
