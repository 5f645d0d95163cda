import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintNumber } from '@tally/database';

export const TASK_TYPES = ['single-label', 'multi-label', 'boxes', 'spans', 'text'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const CAMPAIGN_STATUSES = ['draft', 'published', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Requirements a worker must meet; put to work by the quality issue. */
export interface QualificationRequirements {
  minReliability?: number;
  minApprovedCount?: number;
  minApprovalRate?: number;
  qualificationTestSize?: number;
  qualificationRetryDelaySeconds?: number;
  requiredQualifications?: string[];
}

@Entity('campaigns')
export class CampaignEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @Column('text')
  name: string;

  @Column('text', { name: 'task_type' })
  taskType: TaskType;

  /** Label set (single/multi-label), box classes (boxes) or entity types (spans); empty for text. */
  @Column('jsonb', { default: [] })
  labels: string[];

  @Column('text', { default: '' })
  instructions: string;

  /** Reward per approved assignment, integer minor units of `currency`. */
  @Column('bigint', { name: 'reward_minor', transformer: bigintNumber })
  rewardMinor: number;

  /** ISO 4217, lower case as Stripe writes it (e.g. "usd"). */
  @Column('char', { length: 3 })
  currency: string;

  @Column('integer', { name: 'redundancy_min' })
  redundancyMin: number;

  @Column('integer', { name: 'redundancy_max' })
  redundancyMax: number;

  @Column('double precision', { name: 'confidence_target' })
  confidenceTarget: number;

  @Column('integer', { name: 'lease_seconds' })
  leaseSeconds: number;

  @Column('timestamptz', { nullable: true })
  deadline: Date | null;

  @Column('integer', { name: 'auto_approve_seconds' })
  autoApproveSeconds: number;

  /** Upper bound on a free-text answer (task type `text`). */
  @Column('integer', { name: 'max_text_length', default: 2000 })
  maxTextLength: number;

  @Column('double precision', { name: 'gold_rate', default: 0 })
  goldRate: number;

  @Column('double precision', { name: 'gold_pass_mark', default: 0.8 })
  goldPassMark: number;

  @Column('jsonb', { default: {} })
  qualification: QualificationRequirements;

  @Column('text', { name: 'aggregation_method', default: 'mv' })
  aggregationMethod: string;

  /** off | suggest | annotator: see MODEL_LABEL_MODES. */
  @Column('text', { name: 'model_labels', default: 'off' })
  modelLabels: 'off' | 'suggest' | 'annotator';

  @Column('text', { default: 'draft' })
  status: CampaignStatus;

  @Column('timestamptz', { name: 'published_at', nullable: true })
  publishedAt: Date | null;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
