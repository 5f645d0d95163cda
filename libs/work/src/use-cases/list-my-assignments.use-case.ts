import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { TaskType } from '@tally/campaigns';
import { clampPage, Page } from '@tally/common';
import { ASSIGNMENT_COLUMNS, requireId, toAssignment } from '../assignment-row';
import { AssignmentEntity, AssignmentStatus } from '../entities/assignment.entity';
import { sql } from '../sql';
import { WorkErrors } from '../work.errors';

export interface MyAssignmentsQuery {
  workerId: string;
  status?: AssignmentStatus;
  campaignId?: string;
  limit?: number;
  offset?: number;
}

/** One of my assignments with what I need to (re)do it: the task's payload and the campaign's rules. */
export interface MyAssignmentDetail {
  assignment: AssignmentEntity;
  payload: Record<string, unknown>;
  taskType: TaskType;
  labels: string[];
  instructions: string;
  campaignName: string;
}

/** A worker's own assignments, newest first. Owner-scoped: another worker's id is a 404. */
@Injectable()
export class ListMyAssignmentsUseCase {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async list(q: MyAssignmentsQuery): Promise<Page<AssignmentEntity>> {
    const workerId = requireId(q.workerId, 'workerId');
    const { limit, offset } = clampPage(q.limit, q.offset);
    const params: unknown[] = [workerId];
    let where = 'a.worker_id = $1';
    if (q.status) where += ` AND a.status = $${params.push(q.status)}`;
    if (q.campaignId) where += ` AND a.campaign_id = $${params.push(q.campaignId)}`;
    const [{ rows }, count] = await Promise.all([
      sql(this.ds.manager, `SELECT ${ASSIGNMENT_COLUMNS('a')} FROM assignments a WHERE ${where} ORDER BY a.created_at DESC, a.id LIMIT ${limit} OFFSET ${offset}`, params),
      sql<{ n: number }>(this.ds.manager, `SELECT count(*)::int AS n FROM assignments a WHERE ${where}`, params),
    ]);
    return { items: rows.map(toAssignment), total: count.rows[0].n, limit, offset };
  }

  async get(workerId: string, assignmentId: string): Promise<MyAssignmentDetail> {
    const { rows } = await sql<Record<string, unknown>>(
      this.ds.manager,
      `SELECT ${ASSIGNMENT_COLUMNS('a')}, t.payload AS "_payload", c.task_type AS "_taskType", c.labels AS "_labels",
              c.instructions AS "_instructions", c.name AS "_campaignName"
         FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN campaigns c ON c.id = a.campaign_id
        WHERE a.id = $1 AND a.worker_id = $2`,
      [assignmentId, requireId(workerId, 'workerId')],
    );
    const r = rows[0];
    if (!r) throw WorkErrors.assignmentNotFound();
    return {
      assignment: toAssignment(r),
      payload: r._payload as Record<string, unknown>,
      taskType: r._taskType as TaskType,
      labels: r._labels as string[],
      instructions: r._instructions as string,
      campaignName: r._campaignName as string,
    };
  }
}
