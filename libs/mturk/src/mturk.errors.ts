/**
 * Errors in the shape the AWS SDKs parse for the MTurk requester API:
 * `{"__type": "RequestError" | "ServiceFault", "Message": ..., "TurkErrorCode": ...}`. The SDKs
 * raise their typed exceptions from `__type` (RequestError, ServiceFault); authentication
 * failures use AWS's own types (see sigv4.ts) and carry no TurkErrorCode.
 */
export class MturkError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly turkErrorCode?: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = 'MturkError';
  }

  toBody(): Record<string, string> {
    return { __type: this.type, Message: this.message, ...(this.turkErrorCode ? { TurkErrorCode: this.turkErrorCode } : {}) };
  }
}

const request = (code: string, message: string) => new MturkError('RequestError', message, `AWS.MechanicalTurk.${code}`);

/** The TurkErrorCodes Tally answers, named as MTurk names them. */
export const MturkErrors = {
  /** A parameter is missing or malformed; the message names it. */
  parameter: (name: string, problem: string) => new MturkError('RequestError', `Value for ${name} ${problem}`, 'AWS.ParameterOutOfRange'),
  missing: (name: string) => new MturkError('RequestError', `The request is missing the required parameter ${name}.`, 'AWS.MissingParameters'),
  invalidQuestion: (problem: string) => request('XMLParseError', `There was an error parsing the XML question or answer data in your request: ${problem}`),
  unsupportedQuestion: (problem: string) => request('UnsupportedQuestion', problem),
  hitNotFound: (id: string) => request('HITDoesNotExist', `Hit ${id} does not exist. (${Date.now()})`),
  hitTypeNotFound: (id: string) => request('HITTypeDoesNotExist', `HIT type ${id} does not exist.`),
  assignmentNotFound: (id: string) => request('AssignmentDoesNotExist', `Assignment ${id} does not exist. (${Date.now()})`),
  hitAlreadyExists: (hitId: string) =>
    request('HitAlreadyExists', `The HIT with ID "${hitId}" already exists. Your UniqueRequestToken has already been used to create this HIT.`),
  bonusAlreadyExists: (token: string) =>
    request('BonusPaymentAlreadyExists', `A bonus payment with UniqueRequestToken "${token}" was already granted; it is not paid again.`),
  invalidAssignmentState: (id: string, state: string, allowed: string) =>
    request('InvalidAssignmentState', `This operation can be called with a status of: ${allowed} (assignment ${id} is ${state}).`),
  invalidHitState: (id: string, state: string, allowed: string) =>
    request('InvalidHITState', `This HIT is currently in the state '${state}'. This operation can be called with a status of: ${allowed} (${id})`),
  insufficientFunds: (message: string) => request('InsufficientFunds', `You do not have enough funds: ${message}`),
  workerNotOnHit: (workerId: string) => request('WorkerDoesNotHaveAssignment', `Worker ${workerId} has no assignment on this HIT.`),
  invalidNextToken: () => new MturkError('RequestError', 'The NextToken is invalid or expired.', 'AWS.MechanicalTurk.InvalidNextToken'),
  unsupported: (op: string, why: string) => request('UnsupportedOperation', `${op} is not supported by Tally: ${why}`),
  unknownOperation: (target: string) => new MturkError('UnknownOperationException', `Unknown operation ${target}`, undefined, 400),
  badContentType: () => new MturkError('RequestError', 'Content-Type must be application/x-amz-json-1.1', 'AWS.BadClaimsSupplied'),
  serviceFault: (id: string) => new MturkError('ServiceFault', `Internal error; reference ${id}`, 'AWS.ServiceUnavailable', 500),
};
