import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository, type EntityManager, type FindOptionsWhere } from 'typeorm';
import type { RolloutSettings, RolloutStatus } from '@agentbox/schemas';
import { SerialByKey } from '../../common/serial-by-key.js';

import { DeviceUpdateRow, RolloutDeviceRow, RolloutRow } from './rollout.entity.js';
import { IN_FLIGHT_STATUSES, type BoxState, type EngineConfig, type RolloutState } from './rollout-state.js';
import { RolloutException } from './rollouts.exception.js';

/** Rollouts that have not ended: their boxes cannot be in another one. */
const ACTIVE: RolloutStatus[] = ['draft', 'running', 'paused'];

/** Box counts per status, by rollout id. */
export type StatusCounts = Record<string, number>;

/** A rollout loaded for a change: its row (locked on PostgreSQL), boxes and reports not yet processed. */
export interface LockedRollout {
  manager: EntityManager;
  row: RolloutRow | null;
  boxes: RolloutDeviceRow[];
  reports: DeviceUpdateRow[];
}

export function engineConfigOf(settings: RolloutSettings): EngineConfig {
  return {
    phases: settings.phases,
    successThresholdPct: settings.successThresholdPct,
    autoAdvance: settings.autoAdvance,
    abort: settings.abort,
    perBoxTimeoutSec: settings.perBoxTimeoutSec,
    waitsForWindow: settings.maintenanceWindow !== undefined,
  };
}

export function stateOf(row: RolloutRow, boxes: RolloutDeviceRow[]): RolloutState {
  return {
    status: row.status,
    pauseReason: row.pauseReason,
    phase: row.phase,
    phases: row.phases,
    boxes: boxes.map(({ rolloutId: _rollout, position: _position, ...box }) => box),
    startedAt: row.startedAt,
    endedAt: row.endedAt,
  };
}

/**
 * Persistence of rollouts and their boxes. Changes to one rollout go through `mutate`: serialised in
 * this process and, on PostgreSQL, under a row lock, so an API call on one replica and the leading
 * ticker never interleave.
 */
@Injectable()
export class RolloutStore {
  /** In-process serialisation per rollout (SQLite has no row locks; PostgreSQL adds FOR UPDATE). */
  private readonly serial = new SerialByKey();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(RolloutRow) private readonly rollouts: Repository<RolloutRow>,
    @InjectRepository(RolloutDeviceRow) private readonly boxes: Repository<RolloutDeviceRow>,
    @InjectRepository(DeviceUpdateRow) private readonly updates: Repository<DeviceUpdateRow>,
  ) {}

  find(id: string): Promise<RolloutRow | null> {
    return this.rollouts.findOneBy({ id });
  }

  async require(id: string): Promise<RolloutRow> {
    const row = await this.find(id);
    if (!row) throw new RolloutException('ROLLOUT_NOT_FOUND', `Rollout ${id} not found`);
    return row;
  }

  /** The newest rollout of this release (by id, or of its version on any architecture). */
  latestUsing(release: { id: string; version: string }): Promise<RolloutRow | null> {
    return this.rollouts.findOne({
      where: [{ releaseId: release.id }, { releaseVersion: release.version }],
      order: { createdAt: 'DESC' },
    });
  }

  list(query: { status?: RolloutStatus; releaseId?: string }): Promise<RolloutRow[]> {
    const where: FindOptionsWhere<RolloutRow> = {};
    if (query.status !== undefined) where.status = query.status;
    if (query.releaseId !== undefined) where.releaseId = query.releaseId;
    return this.rollouts.find({ where, order: { createdAt: 'DESC', id: 'ASC' } });
  }

  async countsByRollout(ids: string[]): Promise<Map<string, StatusCounts>> {
    const counts = new Map<string, StatusCounts>();
    if (ids.length === 0) return counts;
    const raw = await this.boxes
      .createQueryBuilder('box')
      .select('box.rollout_id', 'rolloutId')
      .addSelect('box.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .where({ rolloutId: In(ids) })
      .groupBy('box.rollout_id')
      .addGroupBy('box.status')
      .getRawMany<{ rolloutId: string; status: string; n: string | number }>();
    for (const item of raw) {
      const entry = counts.get(item.rolloutId) ?? {};
      entry[item.status] = Number(item.n);
      counts.set(item.rolloutId, entry);
    }
    return counts;
  }

  boxesOf(id: string): Promise<RolloutDeviceRow[]> {
    return this.boxes.find({ where: { rolloutId: id }, order: { position: 'ASC' } });
  }

  /** Boxes offered the update and not finished yet, over every rollout. */
  inFlightBoxes(): Promise<RolloutDeviceRow[]> {
    return this.boxes.find({ where: { status: In([...IN_FLIGHT_STATUSES]) } });
  }

  /** Of these boxes, those in a rollout that has not ended. */
  async busyDevices(deviceIds: string[]): Promise<string[]> {
    const busy: string[] = [];
    for (let i = 0; i < deviceIds.length; i += 500) {
      const rows = await this.boxes
        .createQueryBuilder('box')
        .innerJoin(RolloutRow, 'r', 'r.id = box.rollout_id')
        .select('box.device_id', 'deviceId')
        .where({ deviceId: In(deviceIds.slice(i, i + 500)) })
        .andWhere('r.status IN (:...active)', { active: ACTIVE })
        .getRawMany<{ deviceId: string }>();
      busy.push(...rows.map((row) => row.deviceId));
    }
    return busy;
  }

  /** Rollouts with something for the engine to do: queued reports, boxes in flight (timeouts), running or paused. */
  async idsToStep(): Promise<Set<string>> {
    const queued = await this.updates
      .createQueryBuilder('u')
      .select('DISTINCT u.rollout_id', 'rolloutId')
      .where('u.processed = :processed', { processed: false })
      .getRawMany<{ rolloutId: string }>();
    const active = await this.rollouts.find({
      select: { id: true },
      where: { status: In(['running', 'paused']) },
    });
    const inFlight = await this.boxes
      .createQueryBuilder('box')
      .select('DISTINCT box.rollout_id', 'rolloutId')
      .where({ status: In([...IN_FLIGHT_STATUSES]) })
      .getRawMany<{ rolloutId: string }>();
    return new Set([
      ...queued.map((item) => item.rolloutId),
      ...active.map((row) => row.id),
      ...inFlight.map((item) => item.rolloutId),
    ]);
  }

  /** Inserts a new rollout and its boxes (in target order); `also` writes in the same transaction. */
  async insert(
    row: RolloutRow,
    boxes: readonly BoxState[],
    also: (manager: EntityManager) => Promise<unknown>,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(RolloutRow, row);
      const rows = boxes.map((box, position): RolloutDeviceRow => ({ rolloutId: row.id, position, ...box }));
      for (let i = 0; i < rows.length; i += 200)
        await manager.insert(RolloutDeviceRow, rows.slice(i, i + 200));
      await also(manager);
    });
  }

  /** Runs `work` in a transaction on the rollout, serialised with every other change to it. */
  mutate<T>(id: string, work: (locked: LockedRollout) => Promise<T>): Promise<T> {
    return this.serial.run(id, () =>
      this.dataSource.transaction(async (manager) => {
        const postgres = this.dataSource.options.type === 'postgres';
        const row = await manager.findOne(RolloutRow, {
          where: { id },
          ...(postgres ? { lock: { mode: 'pessimistic_write' as const } } : {}),
        });
        const reports = await manager.find(DeviceUpdateRow, {
          where: { rolloutId: id, processed: false },
          order: { receivedAt: 'ASC', reportedAt: 'ASC' },
        });
        const boxes = row
          ? await manager.find(RolloutDeviceRow, { where: { rolloutId: id }, order: { position: 'ASC' } })
          : [];
        return work({ manager, row, boxes, reports });
      }),
    );
  }

  async markProcessed(manager: EntityManager, reports: DeviceUpdateRow[]): Promise<void> {
    const ids = reports.map((report) => report.id);
    for (let i = 0; i < ids.length; i += 500) {
      await manager.update(DeviceUpdateRow, { id: In(ids.slice(i, i + 500)) }, { processed: true });
    }
  }

  /** Writes what changed between the loaded rows and the engine's new state. */
  async save(
    manager: EntityManager,
    row: RolloutRow,
    boxes: RolloutDeviceRow[],
    state: RolloutState,
    now: number,
  ): Promise<void> {
    for (const [index, box] of state.boxes.entries()) {
      const old = boxes[index];
      if (!old) continue;
      const changed =
        old.status !== box.status ||
        old.reason !== box.reason ||
        old.detail !== box.detail ||
        old.attempt !== box.attempt ||
        old.offeredAt !== box.offeredAt ||
        JSON.stringify(old.progress) !== JSON.stringify(box.progress);
      if (!changed) continue;
      const { deviceId, ...fields } = box;
      // The transformer stores `progress` as JSON text; TypeORM's partial type does not know about it.
      await manager.update(RolloutDeviceRow, { rolloutId: row.id, deviceId }, fields);
    }
    if (
      row.status !== state.status ||
      row.pauseReason !== state.pauseReason ||
      row.phase !== state.phase ||
      row.startedAt !== state.startedAt ||
      row.endedAt !== state.endedAt
    ) {
      await manager.update(
        RolloutRow,
        { id: row.id },
        {
          status: state.status,
          pauseReason: state.pauseReason,
          phase: state.phase,
          startedAt: state.startedAt,
          endedAt: state.endedAt,
          updatedAt: now,
        },
      );
    }
  }
}
