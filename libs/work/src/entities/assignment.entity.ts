import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const ASSIGNMENT_STATUSES = ['claimed', 'submitted', 'approved', 'rejected', 'returned', 'expired'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

/** One worker's work on one task. At most one per (task, worker), enforced by a unique constraint. */
@Entity('assignments')
export class AssignmentEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'task_id' })
  taskId: string;

  @Column('uuid', { name: 'campaign_id' })
  campaignId: string;

  @Column('uuid', { name: 'worker_id' })
  workerId: string;

  @Column('text', { default: 'claimed' })
  status: AssignmentStatus;

  @Column('timestamptz', { name: 'claimed_at' })
  claimedAt: Date;

  @Column('timestamptz', { name: 'lease_expires_at' })
  leaseExpiresAt: Date;

  @Column('timestamptz', { name: 'submitted_at', nullable: true })
  submittedAt: Date | null;

  @Column('jsonb', { nullable: true })
  answer: unknown;

  @Column('integer', { name: 'duration_ms', nullable: true })
  durationMs: number | null;

  @Column('timestamptz', { name: 'auto_approve_at', nullable: true })
  autoApproveAt: Date | null;

  @Column('timestamptz', { name: 'reviewed_at', nullable: true })
  reviewedAt: Date | null;

  @Column('uuid', { name: 'reviewed_by', nullable: true })
  reviewedBy: string | null;

  @Column('text', { name: 'reject_reason', nullable: true })
  rejectReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
