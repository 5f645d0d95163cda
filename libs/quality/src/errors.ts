import { conflict, DomainError, notFound } from '@tally/common';

export const QualityErrors = {
  campaignNotFound: () => notFound('CAMPAIGN_NOT_FOUND', 'Campaign not found'),
  qualificationNotFound: () => notFound('QUALIFICATION_NOT_FOUND', 'Qualification not found'),
  workerNotFound: () => notFound('WORKER_NOT_FOUND', 'Worker not found'),
  flagNotFound: () => notFound('FLAG_NOT_FOUND', 'Flag not found'),
  blockNotFound: () => notFound('BLOCK_NOT_FOUND', 'This worker is not blocked from this campaign'),
  qualificationExists: (name: string) => conflict('QUALIFICATION_EXISTS', `A qualification named "${name}" already exists`),
  notOwner: () => new DomainError('NOT_QUALIFICATION_OWNER', 'forbidden', 'Only the requester who created this qualification (or an admin) may grant or revoke it'),
};
