import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import type { BulkProgress } from '../desired-state/desired-state-bulk.js';
import type { FleetTarget } from '../devices/devices.service.js';
import type { AgentFleetService } from './agent-fleet.service.js';
import { AssignmentJobRow } from './assignment-job.entity.js';
import { AssignmentJobsService, STALE_JOB_MS, toAssignmentJobDto } from './assignment-jobs.service.js';
import type { AssignmentRow } from './assignment.entity.js';

const assignment: AssignmentRow = {
  id: '00000000-0000-4000-8000-000000000001',
  agentId: 'news',
  targetType: 'all',
  targetValue: '',
  createdAt: new Date(),
};

/** The fleet side: `deliver` reports each box as done, or throws after the first when told to. */
function fakeFleet(count: number, failAfterFirst = false): AgentFleetService {
  const targets: FleetTarget[] = Array.from({ length: count }, (_, i) => ({
    id: `box-${i}`,
    tags: [],
    secretsKey: null,
  }));
  const fleet = {
    targetsOf: () => Promise.resolve(targets),
    deliver: async (boxes: readonly FleetTarget[], onProgress: (progress: BulkProgress) => void) => {
      const progress: BulkProgress = { written: 0, unchanged: 0, failed: 0 };
      for (const _box of boxes) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        progress.written += 1;
        onProgress({ ...progress });
        if (failAfterFirst) throw new Error('the database went away');
      }
      return progress;
    },
  };
  return fleet as unknown as AgentFleetService;
}

describe('AssignmentJobsService', () => {
  const db = useTestDatabase({}, [AssignmentJobRow]);

  it('answers with a running job at once and stores it done with its counts', async () => {
    const sut = new AssignmentJobsService(db.dataSource.getRepository(AssignmentJobRow), fakeFleet(5));
    const started = await sut.start(assignment);
    expect(started).toMatchObject({
      assignmentId: assignment.id,
      agentId: 'news',
      target: { type: 'all' },
      state: 'running',
      total: 5,
      done: 0,
      failed: 0,
      finishedAt: null,
    });
    await sut.idle();
    const done = await sut.get(started.id);
    expect(done).toMatchObject({ state: 'done', total: 5, done: 5, failed: 0, error: null });
    expect(done.finishedAt).not.toBeNull();
  });

  it('stores a job that stopped on an error as failed, with what it had done', async () => {
    const sut = new AssignmentJobsService(db.dataSource.getRepository(AssignmentJobRow), fakeFleet(3, true));
    const started = await sut.start(assignment);
    await sut.idle();
    expect(await sut.get(started.id)).toMatchObject({
      state: 'failed',
      done: 1,
      error: 'the database went away',
    });
  });

  it('reads a running job its replica stopped heartbeating as failed', () => {
    const updatedAt = new Date(Date.now() - STALE_JOB_MS - 1);
    const row: AssignmentJobRow = {
      id: 'j',
      assignmentId: assignment.id,
      agentId: 'news',
      targetType: 'tag',
      targetValue: 'lab',
      state: 'running',
      total: 10,
      done: 4,
      failed: 0,
      error: null,
      createdAt: updatedAt,
      updatedAt,
      finishedAt: null,
    };
    expect(toAssignmentJobDto(row)).toMatchObject({ state: 'failed', target: { type: 'tag', tag: 'lab' } });
    expect(toAssignmentJobDto({ ...row, updatedAt: new Date() }).state).toBe('running');
  });

  it('answers 404 ASSIGNMENT_JOB_NOT_FOUND for an unknown job', async () => {
    const sut = new AssignmentJobsService(db.dataSource.getRepository(AssignmentJobRow), fakeFleet(0));
    await expect(sut.get('00000000-0000-4000-8000-0000000000ff')).rejects.toMatchObject({
      code: 'ASSIGNMENT_JOB_NOT_FOUND',
      httpStatus: 404,
    });
  });
});
