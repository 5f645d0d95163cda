import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export interface ImportRowError {
  line: number;
  field?: string;
  problem: string;
}

/** The report of one bulk item import, kept so a requester can look at it again. */
@Entity('item_imports')
export class ItemImportEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'campaign_id' })
  campaignId: string;

  @Column('text')
  format: 'json' | 'jsonl' | 'csv';

  @Column('integer')
  rows: number;

  @Column('integer')
  inserted: number;

  @Column('integer')
  duplicates: number;

  @Column('integer')
  rejected: number;

  @Column('jsonb', { default: [] })
  errors: ImportRowError[];

  @Column('integer', { name: 'duration_ms' })
  durationMs: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
