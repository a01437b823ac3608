import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type {
  DeviceUpdateDto,
  RolloutCreateRequest,
  RolloutDetailDto,
  RolloutDto,
  RolloutStatus,
} from '@agentbox/schemas';
import { AuditService } from '../audit/audit.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { ReleasesService } from '../releases/releases.service.js';
import type { OperatorAction } from './rollout-audit.js';
import { initialState } from './rollout-phases.js';
import type { RolloutRow } from './rollout.entity.js';
import { engineConfigOf, RolloutStore } from './rollout.store.js';
import { RolloutStepper } from './rollout-stepper.service.js';
import { toDeviceUpdateDtos, toRolloutDetailDto, toRolloutDto } from './rollouts.dto.js';
import { RolloutException } from './rollouts.exception.js';
import { UpdateReportsService } from './update-reports.service.js';

/** Rollouts as the API sees them: creation, listing, detail, operator actions and boxes' update history. */
@Injectable()
export class RolloutsService implements OnModuleInit {
  constructor(
    private readonly store: RolloutStore,
    private readonly stepper: RolloutStepper,
    private readonly reports: UpdateReportsService,
    private readonly releases: ReleasesService,
    private readonly devices: DevicesService,
    private readonly audit: AuditService,
    private readonly live: LiveEventsService,
  ) {}

  onModuleInit(): void {
    // A rollout of a version uses every architecture's release of that version (boxes take their own).
    this.releases.addUsageCheck(async (release) => {
      const row = await this.store.latestUsing(release);
      return row ? `rollout ${row.id}` : null;
    });
  }

  async create(request: RolloutCreateRequest, actor: string): Promise<RolloutDetailDto> {
    const release = await this.releases.require(request.releaseId);
    if (release.status !== 'ready') {
      throw new RolloutException(
        'ROLLOUT_RELEASE_NOT_READY',
        `Release ${release.version} has no uploaded bundle yet`,
      );
    }
    const deviceIds = await this.resolveTargets(request.targets);
    if (deviceIds.length === 0) {
      throw new RolloutException('ROLLOUT_NO_TARGETS', 'The targets match no box');
    }
    const busy = await this.store.busyDevices(deviceIds);
    if (busy.length > 0) {
      throw new RolloutException(
        'ROLLOUT_TARGETS_BUSY',
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
    await this.store.insert(row, state.boxes, (manager) =>
      this.audit.record(
        {
          actor,
          action: 'rollout.created',
          targetType: 'rollout',
          targetId: id,
          detail: { releaseId, version: release.version, boxes: deviceIds.length },
        },
        manager,
      ),
    );
    this.live.publish({ type: 'rollout', rolloutId: id });
    return this.get(id);
  }

  async list(query: { status?: RolloutStatus; releaseId?: string } = {}): Promise<RolloutDto[]> {
    const rows = await this.store.list(query);
    const counts = await this.store.countsByRollout(rows.map((row) => row.id));
    return rows.map((row) => toRolloutDto(row, counts.get(row.id) ?? {}));
  }

  async get(id: string): Promise<RolloutDetailDto> {
    const row = await this.store.require(id);
    return toRolloutDetailDto(row, await this.store.boxesOf(id));
  }

  async act(id: string, action: OperatorAction, actor: string): Promise<RolloutDetailDto> {
    await this.store.require(id);
    await this.stepper.step(id, [{ type: action }], actor, Date.now());
    return this.get(id);
  }

  /** The box's update history, newest first. */
  async deviceUpdates(deviceId: string, limit: number): Promise<DeviceUpdateDto[]> {
    await this.devices.get(deviceId);
    return toDeviceUpdateDtos(await this.reports.history(deviceId, limit));
  }

  private async resolveTargets(targets: RolloutCreateRequest['targets']): Promise<string[]> {
    if ('deviceIds' in targets) {
      const unique = [...new Set(targets.deviceIds)];
      const known = new Set((await this.devices.fleetTargets(unique)).map((device) => device.id));
      const unknown = unique.filter((id) => !known.has(id));
      if (unknown.length > 0) {
        throw new RolloutException(
          'ROLLOUT_UNKNOWN_DEVICE',
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
}
