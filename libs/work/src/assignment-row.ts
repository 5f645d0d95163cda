import { AssignmentEntity } from './entities/assignment.entity';

/** The assignment columns in raw SQL, aliased to the entity's property names. */
export const ASSIGNMENT_COLUMNS = (a = 'a') => `
  ${a}.id, ${a}.task_id AS "taskId", ${a}.campaign_id AS "campaignId", ${a}.worker_id AS "workerId", ${a}.status,
  ${a}.claimed_at AS "claimedAt", ${a}.lease_expires_at AS "leaseExpiresAt", ${a}.submitted_at AS "submittedAt",
  ${a}.answer, ${a}.duration_ms AS "durationMs", ${a}.auto_approve_at AS "autoApproveAt", ${a}.reviewed_at AS "reviewedAt",
  ${a}.reviewed_by AS "reviewedBy", ${a}.reject_reason AS "rejectReason", ${a}.created_at AS "createdAt"`;

/** A raw row selected with ASSIGNMENT_COLUMNS as an entity instance (hot paths skip the ORM). */
export function toAssignment(row: Record<string, unknown>): AssignmentEntity {
  return Object.assign(new AssignmentEntity(), {
    id: row.id,
    taskId: row.taskId,
    campaignId: row.campaignId,
    workerId: row.workerId,
    status: row.status,
    claimedAt: row.claimedAt,
    leaseExpiresAt: row.leaseExpiresAt,
    submittedAt: row.submittedAt ?? null,
    answer: row.answer ?? null,
    durationMs: row.durationMs ?? null,
    autoApproveAt: row.autoApproveAt ?? null,
    reviewedAt: row.reviewedAt ?? null,
    reviewedBy: row.reviewedBy ?? null,
    rejectReason: row.rejectReason ?? null,
    createdAt: row.createdAt,
  });
}

/** Rejects an empty owner/worker id: an undefined id must never unscope a query. */
export function requireId(id: string | undefined | null, what: string): string {
  if (!id) throw new Error(`${what} is required`);
  return id;
}
