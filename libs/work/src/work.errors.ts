import { conflict, DomainError, forbidden, notFound } from '@tally/common';

/**
 * Errors of the work domain (claim, submit, return, review, sweeps). The API's one exception
 * filter maps their kind to HTTP; the codes are part of the API contract.
 */
export const WorkErrors = {
  campaignNotFound: () => notFound('CAMPAIGN_NOT_FOUND', 'Campaign not found'),
  assignmentNotFound: () => notFound('ASSIGNMENT_NOT_FOUND', 'Assignment not found'),
  workerBlocked: (reason: string | null) =>
    new DomainError('WORKER_BLOCKED', 'forbidden', `Your account is blocked from claiming work${reason ? `: ${reason}` : ''}`, {
      reason,
    }),
  /** 403 with the reason: not qualified, blocked from this campaign, failed test waiting to retry, daily cap. */
  notQualified: (why: string) => new DomainError('NOT_QUALIFIED', 'forbidden', why, { reason: why }),
  noTestItems: () =>
    new DomainError('QUALIFICATION_TEST_UNAVAILABLE', 'forbidden', 'This campaign has no qualification test items left for you; you cannot qualify right now'),
  ownCampaign: () => forbidden('OWN_CAMPAIGN', 'You cannot work on tasks of your own campaign'),
  campaignNotOpen: (status: string, why?: string) =>
    conflict('CAMPAIGN_NOT_OPEN', why ?? `The campaign is ${status}; only a published campaign hands out work`, { status }),
  /**
   * 409, not 404: the campaign exists and may hand out work again later (a lease expires, an
   * answer is rejected), so "not found" would be misleading for clients that treat 404 as gone.
   */
  noTaskAvailable: () =>
    conflict('NO_TASK_AVAILABLE', 'No task of this campaign is available to you right now: every task is complete, fully claimed, or already done by you'),
  leaseExpired: () => conflict('LEASE_EXPIRED', 'The lease on this assignment has expired; claim a new task'),
  assignmentReturned: () => conflict('ASSIGNMENT_RETURNED', 'This assignment was returned; claim a new task'),
  alreadySubmitted: () =>
    conflict('ASSIGNMENT_ALREADY_SUBMITTED', 'This assignment was already submitted with a different answer; the first answer stands'),
  notClaimed: (status: string) => conflict('ASSIGNMENT_NOT_CLAIMED', `Only a claimed assignment can be returned (it is ${status})`, { status }),
  notSubmitted: (status: string) =>
    conflict('ASSIGNMENT_NOT_SUBMITTED', `Only a submitted assignment can be reviewed (it is ${status})`, { status }),
};
