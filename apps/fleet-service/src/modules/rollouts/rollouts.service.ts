import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository, type EntityManager, type FindOptionsWhere } from 'typeorm';
import {
  type DeviceUpdateDto,
  type RolloutBoxDto,
  type RolloutCreateRequest,
  type RolloutDetailDto,
  type RolloutDto,
  type RolloutSettings,
  type RolloutStatus,
  UPDATE_STATUSES,
  type UpdateMessage,
  type UpdateOffer,
  type UpdateStatus,
} from '@agentbox/schemas';
import type { UpdateReportsPort } from '../../common/ports.js';
import { AuditService, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { OtaTrustService } from '../releases/ota-trust.service.js';
import { ReleasesService } from '../releases/releases.service.js';
import {
  EngineError,
  initialState,
  phaseOf,
  step,
  IN_FLIGHT_STATUSES,
  type EngineAction,
  type EngineConfig,
  type EngineEvent,
  type RolloutState,
  type StepResult,
} from './rollout-engine.js';
import { DeviceUpdateRow, RolloutDeviceRow, RolloutRow } from './rollout.entity.js';
import { RolloutException, RolloutExceptionCode } from './rollouts.exception.js';

export type OperatorAction = 'start' | 'pause' | 'resume' | 'cancel' | 'retry-failed';

const ACTIVE: RolloutStatus[] = ['draft', 'running', 'paused'];

/** Audit verbs of operator actions. */
const OPERATOR_VERBS: Record<OperatorAction, string> = {
  start: 'rollout.started',
  pause: 'rollout.paused',
  resume: 'rollout.resumed',
  cancel: 'rollout.canceled',
  'retry-failed': 'rollout.retried-failed',
};

/**
 * The id a box sees in its offer: the rollout's id, plus `~attempt` from the second attempt on, so a box
 * that remembers having finished (rolloutId, version) takes a retry as new, and its late reports of an
 * earlier attempt are told apart.
 */
export function offerIdOf(rolloutId: string, attempt: number): string {
  return attempt <= 1 ? rolloutId : `${rolloutId}~${attempt}`;
}

export function parseOfferId(offerId: string): { rolloutId: string; attempt: number } {
  const match = /^(.*)~(\d+)$/.exec(offerId);
  if (!match?.[1] || !match[2]) return { rolloutId: offerId, attempt: 1 };
  return { rolloutId: match[1], attempt: Number(match[2]) };
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

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Rollouts: creation, operator actions and the engine's steps, each a transaction on the rollout's row
 * (locked on PostgreSQL, so an API call on one replica and the leading ticker never interleave), then the
 * offers and withdrawals the engine asked for, through the desired-state composition.
 */
@Injectable()
export class RolloutsService implements OnModuleInit, UpdateReportsPort {
  private readonly logger = new Logger(RolloutsService.name);
  /** In-process serialisation per rollout (SQLite has no row locks; PostgreSQL adds FOR UPDATE). */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(RolloutRow) private readonly rollouts: Repository<RolloutRow>,
    @InjectRepository(RolloutDeviceRow) private readonly boxes: Repository<RolloutDeviceRow>,
    @InjectRepository(DeviceUpdateRow) private readonly updates: Repository<DeviceUpdateRow>,
    private readonly releases: ReleasesService,
    private readonly trust: OtaTrustService,
    private readonly devices: DevicesService,
    private readonly desired: DesiredStateService,
    private readonly audit: AuditService,
    private readonly live: LiveEventsService,
  ) {}

  onModuleInit(): void {
    // A rollout of a version uses every architecture's release of that version (boxes take their own).
    this.releases.addUsageCheck(async (release) => {
      const row = await this.rollouts.findOne({
        where: [{ releaseId: release.id }, { releaseVersion: release.version }],
        order: { createdAt: 'DESC' },
      });
      return row ? `rollout ${row.id}` : null;
    });
  }

  // ------------------------------------------------------------------ API

  async create(request: RolloutCreateRequest, actor: string): Promise<RolloutDetailDto> {
    const release = await this.releases.require(request.releaseId);
    if (release.status !== 'ready') {
      throw new RolloutException(
        RolloutExceptionCode.RELEASE_NOT_READY,
        `Release ${release.version} has no uploaded bundle yet`,
      );
    }
    const deviceIds = await this.resolveTargets(request.targets);
    if (deviceIds.length === 0) {
      throw new RolloutException(RolloutExceptionCode.NO_TARGETS, 'The targets match no box');
    }
    const busy = await this.busyDevices(deviceIds);
    if (busy.length > 0) {
      throw new RolloutException(
        RolloutExceptionCode.TARGETS_BUSY,
        `${busy.length} target box(es) are in a rollout that has not ended: ${busy.slice(0, 5).join(', ')}`,
      );
    }
    const { releaseId, ...settings } = request;
    const now = Date.now();
    const state = initialState(engineConfigOf(settings), deviceIds, now);
    const id = randomUUID();
    const row: RolloutRow = {
      id,
      releaseId,
      releaseVersion: release.version,
      status: state.status,
      pauseReason: null,
      phase: 0,
      phases: state.phases,
      settings,
      createdBy: actor,
      createdAt: now,
      startedAt: null,
      endedAt: null,
      updatedAt: now,
    };
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(RolloutRow, row);
      const rows = state.boxes.map((box, position): RolloutDeviceRow => ({
        rolloutId: id,
        deviceId: box.deviceId,
        position,
        status: 'pending',
        reason: null,
        detail: null,
        progress: null,
        attempt: 0,
        offeredAt: null,
        updatedAt: now,
      }));
      for (let i = 0; i < rows.length; i += 200)
        await manager.insert(RolloutDeviceRow, rows.slice(i, i + 200));
      await this.audit.record(
        {
          actor,
          action: 'rollout.created',
          targetType: 'rollout',
          targetId: id,
          detail: { releaseId, version: release.version, boxes: deviceIds.length },
        },
        manager,
      );
    });
    this.live.publish({ type: 'rollout', rolloutId: id });
    return this.get(id);
  }

  async list(query: { status?: RolloutStatus; releaseId?: string } = {}): Promise<RolloutDto[]> {
    const where: FindOptionsWhere<RolloutRow> = {};
    if (query.status !== undefined) where.status = query.status;
    if (query.releaseId !== undefined) where.releaseId = query.releaseId;
    const rows = await this.rollouts.find({ where, order: { createdAt: 'DESC', id: 'ASC' } });
    const counts = new Map<string, Record<string, number>>();
    if (rows.length > 0) {
      const raw = await this.boxes
        .createQueryBuilder('box')
        .select('box.rollout_id', 'rolloutId')
        .addSelect('box.status', 'status')
        .addSelect('COUNT(*)', 'n')
        .where({ rolloutId: In(rows.map((row) => row.id)) })
        .groupBy('box.rollout_id')
        .addGroupBy('box.status')
        .getRawMany<{ rolloutId: string; status: string; n: string | number }>();
      for (const item of raw) {
        const entry = counts.get(item.rolloutId) ?? {};
        entry[item.status] = Number(item.n);
        counts.set(item.rolloutId, entry);
      }
    }
    return rows.map((row) => this.toDto(row, counts.get(row.id) ?? {}));
  }

  async get(id: string): Promise<RolloutDetailDto> {
    const row = await this.require(id);
    const boxes = await this.boxes.find({ where: { rolloutId: id }, order: { position: 'ASC' } });
    const state = this.stateOf(row, boxes);
    const counts: Record<string, number> = {};
    const phaseCounts = row.phases.map((): Record<string, number> => ({}));
    const boxDtos = boxes.map((box, index): RolloutBoxDto => {
      const phase = phaseOf(state, index);
      counts[box.status] = (counts[box.status] ?? 0) + 1;
      const bucket = phaseCounts[phase];
      if (bucket) bucket[box.status] = (bucket[box.status] ?? 0) + 1;
      return {
        deviceId: box.deviceId,
        phase,
        status: box.status,
        reason: box.reason,
        detail: box.detail,
        progress: box.progress,
        attempt: box.attempt,
        offeredAt: iso(box.offeredAt),
        updatedAt: new Date(box.updatedAt).toISOString(),
      };
    });
    return {
      ...this.toDto(row, counts),
      phases: row.phases.map((phase, index) => ({
        index,
        name: phase.name,
        start: index === 0 ? 0 : (row.phases[index - 1]?.end ?? 0),
        end: phase.end,
        counts: phaseCounts[index] ?? {},
      })),
      boxes: boxDtos,
    };
  }

  async act(id: string, action: OperatorAction, actor: string): Promise<RolloutDetailDto> {
    await this.require(id);
    await this.mutate(id, [{ type: action }], actor, Date.now());
    return this.get(id);
  }

  /** The box's update history, newest first. */
  async deviceUpdates(deviceId: string, limit: number): Promise<DeviceUpdateDto[]> {
    await this.devices.get(deviceId);
    const rows = await this.updates.find({
      where: { deviceId },
      order: { receivedAt: 'DESC', reportedAt: 'DESC' },
      take: limit,
    });
    // Reports of one attempt often share a millisecond; the flow's own order breaks those ties.
    const rank = (status: string) => UPDATE_STATUSES.indexOf(status as UpdateStatus);
    rows.sort(
      (a, b) =>
        b.receivedAt - a.receivedAt ||
        b.reportedAt - a.reportedAt ||
        b.attempt - a.attempt ||
        rank(b.status) - rank(a.status),
    );
    return rows.map((row) => ({
      id: row.id,
      rolloutId: row.rolloutId,
      attempt: row.attempt,
      version: row.version,
      status: row.status as UpdateStatus,
      reason: row.reason as DeviceUpdateDto['reason'],
      detail: row.detail,
      progress: row.progress,
      runningVersion: row.runningVersion,
      reportedAt: new Date(row.reportedAt).toISOString(),
      receivedAt: new Date(row.receivedAt).toISOString(),
    }));
  }

  // ------------------------------------------------------------------ ingest and the ticker

  /**
   * Stores what a box reported on `up/update` (history, and the queue the leading replica's engine
   * reads). Any replica may ingest; only the leader steps rollouts.
   */
  async recordReports(deviceId: string, message: UpdateMessage, receivedAt: Date): Promise<void> {
    const rows = message.reports.map((report): DeviceUpdateRow => {
      const { rolloutId, attempt } = parseOfferId(report.rolloutId);
      return {
        id: randomUUID(),
        deviceId,
        rolloutId,
        attempt,
        version: report.version,
        status: report.status,
        reason: report.reason ?? null,
        detail: report.detail ?? null,
        progress: report.progress ?? null,
        runningVersion: report.runningVersion,
        reportedAt: report.ts,
        receivedAt: receivedAt.getTime(),
        processed: false,
      };
    });
    // A report the box journaled but saw no acknowledgement for goes out again after its restart, with
    // its original timestamp: the unique (box, offer, status, box time) index keeps it once.
    await this.updates.createQueryBuilder().insert().into(DeviceUpdateRow).values(rows).orIgnore().execute();
    for (const rolloutId of new Set(rows.map((row) => row.rolloutId))) {
      this.live.publish({ type: 'device.update', deviceId, rolloutId });
    }
  }

  /**
   * One engine pass over every rollout with something to do: queued reports, boxes in flight (timeouts),
   * running or paused rollouts. Called by the leading ticker only.
   */
  async tick(now = Date.now()): Promise<void> {
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
    const ids = new Set([
      ...queued.map((item) => item.rolloutId),
      ...active.map((row) => row.id),
      ...inFlight.map((item) => item.rolloutId),
    ]);
    for (const id of ids) {
      try {
        await this.mutate(id, [], SYSTEM_ACTOR, now);
      } catch (error) {
        this.logger.error(`Stepping rollout ${id} failed: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Makes every box's `spec.update` agree with its rollout status (offers lost when a leader died between
   * its commit and its publishes). Run when a replica becomes the leader.
   */
  async reconcileOffers(): Promise<void> {
    const boxes = await this.boxes.find({ where: { status: In([...IN_FLIGHT_STATUSES]) } });
    for (const box of boxes) {
      const rollout = await this.rollouts.findOneBy({ id: box.rolloutId });
      if (!rollout) continue;
      try {
        await this.offer(rollout, box.deviceId, box.attempt);
      } catch (error) {
        this.logger.error(`Re-offering ${box.deviceId} failed: ${(error as Error).message}`);
      }
    }
  }

  // ------------------------------------------------------------------ internals

  private async require(id: string): Promise<RolloutRow> {
    const row = await this.rollouts.findOneBy({ id });
    if (!row) throw new RolloutException(RolloutExceptionCode.NOT_FOUND, `Rollout ${id} not found`);
    return row;
  }

  private async resolveTargets(targets: RolloutCreateRequest['targets']): Promise<string[]> {
    if ('deviceIds' in targets) {
      const unique = [...new Set(targets.deviceIds)];
      const known = new Set((await this.devices.fleetTargets(unique)).map((device) => device.id));
      const unknown = unique.filter((id) => !known.has(id));
      if (unknown.length > 0) {
        throw new RolloutException(
          RolloutExceptionCode.UNKNOWN_DEVICE,
          `Unknown box(es): ${unknown.slice(0, 5).join(', ')}`,
        );
      }
      // The order given is kept: the first boxes listed are the first phase (canaries).
      return unique;
    }
    const all = await this.devices.fleetTargets();
    if ('all' in targets) return all.map((device) => device.id);
    return all
      .filter((device) => device.tags.some((tag) => targets.tags.includes(tag)))
      .map((device) => device.id);
  }

  private async busyDevices(deviceIds: string[]): Promise<string[]> {
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

  private stateOf(row: RolloutRow, boxes: RolloutDeviceRow[]): RolloutState {
    return {
      status: row.status,
      pauseReason: row.pauseReason,
      phase: row.phase,
      phases: row.phases,
      boxes: boxes.map((box) => ({
        deviceId: box.deviceId,
        status: box.status,
        reason: box.reason,
        detail: box.detail,
        progress: box.progress,
        attempt: box.attempt,
        offeredAt: box.offeredAt,
        updatedAt: box.updatedAt,
      })),
      startedAt: row.startedAt,
      endedAt: row.endedAt,
    };
  }

  private serialised<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.chains.set(id, settled);
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }

  /** Loads the rollout (locked), applies operator events and queued reports, stores, then acts. */
  private async mutate(id: string, operator: EngineEvent[], actor: string, now: number): Promise<void> {
    const outcome = await this.serialised(id, () =>
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
        if (!row) {
          if (reports.length > 0) await this.markProcessed(manager, reports);
          return null;
        }
        const boxes = await manager.find(RolloutDeviceRow, {
          where: { rolloutId: id },
          order: { position: 'ASC' },
        });
        const before = this.stateOf(row, boxes);
        const events: EngineEvent[] = [
          ...reports.map((report): EngineEvent => ({
            type: 'report',
            deviceId: report.deviceId,
            attempt: report.attempt,
            status: report.status as UpdateStatus,
            ...(report.reason === null ? {} : { reason: report.reason }),
            ...(report.detail === null ? {} : { detail: report.detail }),
            ...(report.progress === null ? {} : { progress: report.progress }),
          })),
          ...operator,
        ];
        let result: StepResult;
        try {
          result = step(engineConfigOf(row.settings), before, events, now);
        } catch (error) {
          if (error instanceof EngineError) {
            throw new RolloutException(RolloutExceptionCode.INVALID_TRANSITION, error.message);
          }
          throw error;
        }
        const { state, actions } = result;
        await this.store(manager, row, boxes, state, now);
        if (reports.length > 0) await this.markProcessed(manager, reports);
        await this.auditActions(manager, id, operator, actions, actor, state);
        return { row, state, actions, changed: actions.length > 0 || reports.length > 0 };
      }),
    );
    if (!outcome) return;
    await this.carryOut(outcome.row, outcome.actions);
    if (outcome.changed) this.live.publish({ type: 'rollout', rolloutId: id });
  }

  private async markProcessed(manager: EntityManager, reports: DeviceUpdateRow[]): Promise<void> {
    const ids = reports.map((report) => report.id);
    for (let i = 0; i < ids.length; i += 500) {
      await manager.update(DeviceUpdateRow, { id: In(ids.slice(i, i + 500)) }, { processed: true });
    }
  }

  private async store(
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
      await manager.update(
        RolloutDeviceRow,
        { rolloutId: row.id, deviceId: box.deviceId },
        {
          status: box.status,
          reason: box.reason,
          detail: box.detail,
          // The transformer stores JSON text; TypeORM's partial type does not know about it.
          progress: box.progress,
          attempt: box.attempt,
          offeredAt: box.offeredAt,
          updatedAt: box.updatedAt,
        },
      );
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

  /** Operator actions are recorded under the operator; what the engine decided by itself under `system`. */
  private async auditActions(
    manager: EntityManager,
    rolloutId: string,
    operator: EngineEvent[],
    actions: EngineAction[],
    actor: string,
    state: RolloutState,
  ): Promise<void> {
    const record = (who: string, action: string, detail: Record<string, unknown>) =>
      this.audit.record({ actor: who, action, targetType: 'rollout', targetId: rolloutId, detail }, manager);
    for (const event of operator) {
      if (event.type === 'report') continue;
      await record(actor, OPERATOR_VERBS[event.type], { phase: state.phase });
    }
    const requested = new Set(operator.map((event) => event.type));
    for (const action of actions) {
      if (action.type === 'phase') {
        await record(SYSTEM_ACTOR, 'rollout.phase-advanced', {
          phase: action.phase,
          name: state.phases[action.phase]?.name,
        });
      } else if (action.type === 'status') {
        const direct =
          (action.status === 'running' &&
            (requested.has('start') || requested.has('resume') || requested.has('retry-failed'))) ||
          (action.status === 'paused' && action.pauseReason === 'operator' && requested.has('pause')) ||
          (action.status === 'canceled' && requested.has('cancel'));
        if (direct) continue;
        const { finished, failed } = (() => {
          let f = 0;
          let d = 0;
          for (const box of state.boxes) {
            if (box.status === 'healthy') d += 1;
            else if (box.status === 'failed' || box.status === 'rolled-back' || box.status === 'rejected') {
              d += 1;
              f += 1;
            }
          }
          return { finished: d, failed: f };
        })();
        await record(SYSTEM_ACTOR, `rollout.${action.status}`, {
          pauseReason: action.pauseReason,
          phase: state.phase,
          finished,
          failed,
        });
      }
    }
  }

  /** Offers and withdrawals after the commit; a failed publish is retried by reconcileOffers or times out. */
  private async carryOut(row: RolloutRow, actions: EngineAction[]): Promise<void> {
    for (const action of actions) {
      if (action.type !== 'offer' && action.type !== 'withdraw') continue;
      try {
        if (action.type === 'offer') await this.offer(row, action.deviceId, action.attempt);
        else await this.withdraw(row.id, action.deviceId);
      } catch (error) {
        this.logger.error(
          `Rollout ${row.id}: ${action.type} for ${action.deviceId} failed: ${(error as Error).message}`,
        );
      }
    }
  }

  private async offer(row: RolloutRow, deviceId: string, attempt: number): Promise<void> {
    const arch = (await this.devices.get(deviceId)).hardware?.arch;
    const release = await this.releases.buildFor(row.releaseId, arch);
    const { settings } = row;
    const offer: UpdateOffer = {
      rolloutId: offerIdOf(row.id, attempt),
      release: release.manifest,
      // Boxes pin root version 1 or later at install; they skip versions they already trust.
      roots: (await this.trust.chain(1)).slice(-20),
      url: this.releases.artifactUrl(release.id, deviceId),
      downloadToken: this.releases.issueDownloadToken(deviceId, release.id),
      policy: {
        ...(settings.maintenanceWindow ? { maintenanceWindow: settings.maintenanceWindow } : {}),
        force: settings.force,
        maxWaitSec: settings.maxWaitSec,
        healthDeadlineSec: settings.healthDeadlineSec,
      },
    };
    // A re-offer of the same attempt keeps the token already handed out (no new document version).
    await this.desired.applyUpdate(deviceId, offer, (current) => current?.rolloutId !== offer.rolloutId);
  }

  private async withdraw(rolloutId: string, deviceId: string): Promise<void> {
    await this.desired.applyUpdate(
      deviceId,
      null,
      (current) => current !== undefined && parseOfferId(current.rolloutId).rolloutId === rolloutId,
    );
  }

  private toDto(row: RolloutRow, counts: Record<string, number>): RolloutDto {
    return {
      id: row.id,
      releaseId: row.releaseId,
      releaseVersion: row.releaseVersion,
      status: row.status,
      pauseReason: row.pauseReason,
      phase: row.phase,
      settings: row.settings,
      totalBoxes: row.phases[row.phases.length - 1]?.end ?? 0,
      counts,
      createdBy: row.createdBy,
      createdAt: new Date(row.createdAt).toISOString(),
      startedAt: iso(row.startedAt),
      endedAt: iso(row.endedAt),
      updatedAt: new Date(row.updatedAt).toISOString(),
    };
  }
}
