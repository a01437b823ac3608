import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { AssignmentJobDto } from '@agentbox/schemas';
import type { BulkProgress } from '../desired-state/desired-state-bulk.js';
import type { FleetTarget } from '../devices/devices.service.js';
import { AgentFleetService } from './agent-fleet.service.js';
import { targetOf } from './agents.dto.js';
import { AgentException } from './agents.exception.js';
import { AssignmentJobRow } from './assignment-job.entity.js';
import type { AssignmentRow } from './assignment.entity.js';

/** How often a running job's counts are written while they change. */
const PROGRESS_WRITE_MS = 250;
/** How often a running job whose counts did not change says it is still alive. */
const HEARTBEAT_MS = 5_000;
/** A running job not heard of for this long lost its replica (stopped or killed): it reads as failed. */
export const STALE_JOB_MS = 60_000;

export function toAssignmentJobDto(row: AssignmentJobRow, now = Date.now()): AssignmentJobDto {
  const stale = row.state === 'running' && now - row.updatedAt.getTime() > STALE_JOB_MS;
  return {
    id: row.id,
    assignmentId: row.assignmentId,
    agentId: row.agentId,
    target: targetOf(row),
    state: stale ? 'failed' : row.state,
    total: row.total,
    done: row.done,
    failed: row.failed,
    error: stale ? 'The service replica running this job stopped before it finished' : row.error,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/**
 * Delivers a new assignment to the boxes it reaches in the background, so the request answers 202 at
 * once (docs/architecture.md, "Fan-out"); the job's row, readable from any replica, follows the progress.
 */
@Injectable()
export class AssignmentJobsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AssignmentJobsService.name);
  private readonly running = new Set<Promise<void>>();

  constructor(
    @InjectRepository(AssignmentJobRow) private readonly jobs: Repository<AssignmentJobRow>,
    private readonly fleet: AgentFleetService,
  ) {}

  /** Stores the job with the boxes the assignment reaches now, and starts delivering. */
  async start(assignment: AssignmentRow): Promise<AssignmentJobDto> {
    const targets = await this.fleet.targetsOf([assignment]);
    const now = new Date();
    const row: AssignmentJobRow = {
      id: randomUUID(),
      assignmentId: assignment.id,
      agentId: assignment.agentId,
      targetType: assignment.targetType,
      targetValue: assignment.targetValue,
      state: 'running',
      total: targets.length,
      done: 0,
      failed: 0,
      error: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    await this.jobs.insert(row);
    const work = this.run(row, targets).finally(() => this.running.delete(work));
    this.running.add(work);
    return toAssignmentJobDto(row);
  }

  async get(id: string): Promise<AssignmentJobDto> {
    const row = await this.jobs.findOneBy({ id });
    if (!row) throw new AgentException('ASSIGNMENT_JOB_NOT_FOUND', `Assignment job ${id} not found`);
    return toAssignmentJobDto(row);
  }

  /** Lets the jobs of this replica finish before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.running]);
  }

  /** Resolves once every job started so far has finished (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private async run(row: AssignmentJobRow, targets: readonly FleetTarget[]): Promise<void> {
    let latest: BulkProgress = { written: 0, unchanged: 0, failed: 0 };
    let written = -1;
    let lastWrite = Date.now();
    let writes = Promise.resolve();
    const save = (patch: Partial<AssignmentJobRow>) => {
      writes = writes
        .then(() => this.jobs.update({ id: row.id }, { ...patch, updatedAt: new Date() }))
        .then(
          () => undefined,
          (error: Error) => this.logger.warn(`Updating assignment job ${row.id} failed: ${error.message}`),
        );
    };
    const counts = () => ({ done: latest.written + latest.unchanged, failed: latest.failed });
    const timer = setInterval(() => {
      const settled = latest.written + latest.unchanged + latest.failed;
      if (settled === written && Date.now() - lastWrite < HEARTBEAT_MS) return;
      written = settled;
      lastWrite = Date.now();
      save(counts());
    }, PROGRESS_WRITE_MS);
    try {
      latest = await this.fleet.deliver(targets, (progress) => {
        latest = progress;
      });
      clearInterval(timer);
      save({ ...counts(), state: 'done', finishedAt: new Date() });
    } catch (error) {
      clearInterval(timer);
      this.logger.error(`Assignment job ${row.id} failed: ${(error as Error).message}`);
      save({ ...counts(), state: 'failed', error: (error as Error).message, finishedAt: new Date() });
    }
    await writes;
  }
}
