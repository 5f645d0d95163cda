import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { clampPage, Page } from '@tally/common';
import { ASSIGNMENT_COLUMNS, toAssignment } from '../assignment-row';
import { AssignmentEntity, AssignmentStatus } from '../entities/assignment.entity';
import { sql } from '../sql';

export interface AssignmentSearch {
  campaignId?: string;
  workerId?: string;
  taskId?: string;
  status?: AssignmentStatus;
  limit?: number;
  offset?: number;
}

/** Admin search across every campaign (the caller's admin role is checked at the edge). */
@Injectable()
export class SearchAssignmentsUseCase {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async execute(s: AssignmentSearch): Promise<Page<AssignmentEntity>> {
    const { limit, offset } = clampPage(s.limit, s.offset);
    const params: unknown[] = [];
    const conds: string[] = [];
    if (s.campaignId) conds.push(`a.campaign_id = $${params.push(s.campaignId)}`);
    if (s.workerId) conds.push(`a.worker_id = $${params.push(s.workerId)}`);
    if (s.taskId) conds.push(`a.task_id = $${params.push(s.taskId)}`);
    if (s.status) conds.push(`a.status = $${params.push(s.status)}`);
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const [{ rows }, count] = await Promise.all([
      sql(this.ds.manager, `SELECT ${ASSIGNMENT_COLUMNS('a')} FROM assignments a ${where} ORDER BY a.created_at DESC, a.id LIMIT ${limit} OFFSET ${offset}`, params),
      sql<{ n: number }>(this.ds.manager, `SELECT count(*)::int AS n FROM assignments a ${where}`, params),
    ]);
    return { items: rows.map(toAssignment), total: count.rows[0].n, limit, offset };
  }
}
