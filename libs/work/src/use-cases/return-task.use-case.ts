import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { ASSIGNMENT_COLUMNS, requireId, toAssignment } from '../assignment-row';
import { AssignmentEntity } from '../entities/assignment.entity';
import { sql } from '../sql';
import { WorkErrors } from '../work.errors';

/**
 * A worker gives a claimed task back: the assignment becomes `returned` and the slot is freed
 * (taken - 1) in the same transaction. The worker will not be offered that task again (one
 * assignment per task and worker, whatever its status).
 */
@Injectable()
export class ReturnTaskUseCase {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async execute(input: { workerId: string; assignmentId: string }): Promise<AssignmentEntity> {
    const workerId = requireId(input.workerId, 'workerId');
    const returned = await inTransaction(this.ds, async (em) => {
      const { rows } = await sql(
        em,
        `WITH r AS (
           UPDATE assignments a SET status = 'returned'
            WHERE a.id = $1 AND a.worker_id = $2 AND a.status = 'claimed'
            RETURNING ${ASSIGNMENT_COLUMNS('a')})
         UPDATE tasks t SET taken = t.taken - 1 FROM r WHERE t.id = r."taskId" RETURNING r.*`,
        [input.assignmentId, workerId],
      );
      return rows[0] ? toAssignment(rows[0]) : null;
    });
    if (returned) return returned;
    const { rows } = await sql<{ status: string }>(this.ds.manager, `SELECT status FROM assignments WHERE id = $1 AND worker_id = $2`, [
      input.assignmentId,
      workerId,
    ]);
    if (!rows[0]) throw WorkErrors.assignmentNotFound();
    throw WorkErrors.notClaimed(rows[0].status);
  }
}
