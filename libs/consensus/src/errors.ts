/** Error codes thrown by @tally/consensus (SCREAMING_SNAKE, mapped to HTTP by the callers). */
export type ConsensusErrorCode =
  | 'UNKNOWN_LABEL'
  | 'UNKNOWN_WORKER'
  | 'INVALID_OPTION'
  | 'INVALID_INPUT';

/** The one error type of this library; `code` says what went wrong. */
export class ConsensusError extends Error {
  constructor(
    readonly code: ConsensusErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConsensusError';
  }
}
