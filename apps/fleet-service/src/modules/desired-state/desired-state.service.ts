import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import {
  type DesiredStateMessage,
  type DesiredStateResponse,
  encodeMessage,
  type ReportedStateMessage,
  SCHEMA_VERSION,
  type UpdateOffer,
} from '@agentbox/schemas';
import { CommonException, CommonExceptionCode } from '../../common/errors/domain-exception.js';
import { BROKER, type BrokerPort } from '../../common/ports.js';
import { AppConfig } from '../../config/app-config.js';
import { DevicesService } from '../devices/devices.service.js';
import { DeviceStateRow } from './device-state.entity.js';

/** How long a request waits for the broker to acknowledge a desired-state publish. */
const PUBLISH_WAIT_MS = 5_000;

/**
 * Desired state per box (AWS IoT Shadow style): a versioned document the cloud publishes retained on
 * `down/desired`, and the state the box reports on `up/state`. The box always takes the whole document
 * and compares versions, so nothing relies on deltas it might have missed while offline.
 */
@Injectable()
export class DesiredStateService {
  private readonly logger = new Logger(DesiredStateService.name);
  /** Serialises writes and publishes per box, so the retained document never goes back a version. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    @InjectRepository(DeviceStateRow) private readonly states: Repository<DeviceStateRow>,
    @Inject(BROKER) private readonly broker: BrokerPort,
    private readonly devices: DevicesService,
    private readonly config: AppConfig,
  ) {}

  async get(deviceId: string): Promise<DesiredStateResponse> {
    await this.devices.get(deviceId);
    const row = await this.states.findOneBy({ deviceId });
    return this.toResponse(deviceId, row);
  }

  /** Stores a new desired document (version + 1) and publishes it retained. */
  async setDesired(deviceId: string, spec: DesiredStateMessage['spec']): Promise<DesiredStateResponse> {
    await this.devices.get(deviceId);
    const size = encodeMessage({
      v: SCHEMA_VERSION,
      version: Number.MAX_SAFE_INTEGER,
      ts: Date.now(),
      spec,
    }).length;
    if (size > this.config.maxPayloadBytes) {
      throw new CommonException(
        CommonExceptionCode.PAYLOAD_TOO_LARGE,
        `The desired state is ${size} bytes once encoded; the MQTT payload cap is ${this.config.maxPayloadBytes}`,
      );
    }
    return this.serialised(deviceId, async () => {
      const now = new Date();
      await this.ensureRow(deviceId, now);
      const current = await this.states.findOneByOrFail({ deviceId });
      // Once composed from assignments, the agents and providers sections belong to the agents module;
      // the update offer always belongs to the rollouts module.
      const composed =
        current.agentsFingerprint === null
          ? spec
          : { ...spec, agents: current.desiredSpec.agents, providers: current.desiredSpec.providers };
      const merged = { ...composed, update: current.desiredSpec.update };
      await this.states.increment({ deviceId }, 'desiredVersion', 1);
      await this.states.update({ deviceId }, {
        desiredSpec: merged,
        desiredAt: now,
      } as QueryDeepPartialEntity<DeviceStateRow>);
      const row = await this.states.findOneByOrFail({ deviceId });
      await this.publish(row);
      return this.toResponse(deviceId, row);
    });
  }

  /**
   * Replaces the agents and providers sections (other sections such as telemetry are kept) with what
   * `build` composes, as a new version, unless `fingerprint` equals the one they were last composed from.
   * A box that never had agents from the cloud is left alone while it has none (`empty`).
   * Returns whether a new version was published.
   */
  async applyAgents(
    deviceId: string,
    fingerprint: string,
    empty: boolean,
    build: () => Pick<DesiredStateMessage['spec'], 'agents' | 'providers'>,
  ): Promise<boolean> {
    return this.serialised(deviceId, async () => {
      const existing = await this.states.findOneBy({ deviceId });
      if (existing?.agentsFingerprint === fingerprint) return false;
      if (empty && (existing?.agentsFingerprint ?? null) === null) return false;
      const now = new Date();
      await this.ensureRow(deviceId, now);
      const current = existing ?? (await this.states.findOneByOrFail({ deviceId }));
      const spec = { ...current.desiredSpec, ...build() };
      const size = encodeMessage({
        v: SCHEMA_VERSION,
        version: Number.MAX_SAFE_INTEGER,
        ts: Date.now(),
        spec,
      }).length;
      if (size > this.config.maxPayloadBytes) {
        this.logger.error(
          `The desired state of ${deviceId} would be ${size} bytes, over the ${this.config.maxPayloadBytes}-byte MQTT payload cap; its agents were not updated`,
        );
        return false;
      }
      await this.states.increment({ deviceId }, 'desiredVersion', 1);
      await this.states.update(
        { deviceId },
        { desiredSpec: spec, desiredAt: now, agentsFingerprint: fingerprint },
      );
      const row = await this.states.findOneByOrFail({ deviceId });
      await this.publish(row);
      return true;
    });
  }

  /**
   * Puts the update offer (`spec.update`) in the box's document, or removes it (`offer` null), as a new
   * version; nothing is published when the section already holds exactly that. `replaces` decides whether
   * the offer in place may be overwritten (a rollout only withdraws its own offer). Returns whether a new
   * version was published.
   */
  async applyUpdate(
    deviceId: string,
    offer: UpdateOffer | null,
    replaces: (current: UpdateOffer | undefined) => boolean = () => true,
  ): Promise<boolean> {
    return this.serialised(deviceId, async () => {
      await this.ensureRow(deviceId, new Date());
      const current = await this.states.findOneByOrFail({ deviceId });
      const existing = current.desiredSpec.update as UpdateOffer | undefined;
      if (JSON.stringify(existing ?? null) === JSON.stringify(offer)) return false;
      if (!replaces(existing)) return false;
      const spec: Record<string, unknown> = { ...current.desiredSpec };
      if (offer === null) delete spec.update;
      else spec.update = offer;
      const size = encodeMessage({
        v: SCHEMA_VERSION,
        version: Number.MAX_SAFE_INTEGER,
        ts: Date.now(),
        spec,
      }).length;
      if (size > this.config.maxPayloadBytes) {
        throw new CommonException(
          CommonExceptionCode.PAYLOAD_TOO_LARGE,
          `The desired state of ${deviceId} would be ${size} bytes with the update offer; the MQTT payload cap is ${this.config.maxPayloadBytes}`,
        );
      }
      await this.states.increment({ deviceId }, 'desiredVersion', 1);
      await this.states.update({ deviceId }, {
        desiredSpec: spec,
        desiredAt: new Date(),
      } as QueryDeepPartialEntity<DeviceStateRow>);
      const row = await this.states.findOneByOrFail({ deviceId });
      await this.publish(row);
      return true;
    });
  }

  /**
   * Called when a box comes online: creates version 0 (empty spec) the first time and (re)publishes the
   * current document, so every box always finds one retained, even after a broker without persistence restarted.
   */
  async ensurePublished(deviceId: string): Promise<void> {
    await this.serialised(deviceId, async () => {
      await this.ensureRow(deviceId, new Date());
      const row = await this.states.findOneByOrFail({ deviceId });
      await this.publish(row);
    });
  }

  /** Stores what the box reported, unless a newer report (higher seq) is already stored. */
  async recordReported(deviceId: string, report: ReportedStateMessage, at: Date): Promise<void> {
    await this.serialised(deviceId, async () => {
      await this.ensureRow(deviceId, at);
      const patch = {
        reportedSeq: report.seq,
        reportedVersion: report.desiredVersion,
        reported: report.current,
        reportedAt: at,
      } as QueryDeepPartialEntity<DeviceStateRow>;
      const newer = await this.states.update({ deviceId, reportedSeq: IsNull() }, patch);
      if (!newer.affected) await this.states.update({ deviceId, reportedSeq: LessThan(report.seq) }, patch);
    });
  }

  private async ensureRow(deviceId: string, now: Date): Promise<void> {
    await this.states
      .createQueryBuilder()
      .insert()
      .into(DeviceStateRow)
      .values({ deviceId, desiredVersion: 0, desiredSpec: {}, desiredAt: now })
      .orIgnore()
      .execute();
  }

  private async publish(row: DeviceStateRow): Promise<void> {
    const message: DesiredStateMessage = {
      v: SCHEMA_VERSION,
      version: row.desiredVersion,
      ts: row.desiredAt.getTime(),
      spec: row.desiredSpec,
    };
    // While the broker is unreachable the MQTT client queues the publish and sends it on reconnect; the
    // request does not wait for that (the document is stored, and re-published whenever the box comes online).
    const published = this.broker.publishDesired(row.deviceId, encodeMessage(message)).then(
      () => 'published' as const,
      (error: Error) => {
        this.logger.warn(
          `Publishing desired state v${row.desiredVersion} to ${row.deviceId} failed: ${error.message}`,
        );
        return 'failed' as const;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'queued'>((resolve) => {
      timer = setTimeout(() => resolve('queued'), PUBLISH_WAIT_MS);
    });
    const outcome = await Promise.race([published, waited]);
    clearTimeout(timer);
    if (outcome === 'queued') {
      this.logger.warn(
        `Desired state v${row.desiredVersion} for ${row.deviceId} is queued until the broker is back`,
      );
    }
  }

  private toResponse(deviceId: string, row: DeviceStateRow | null): DesiredStateResponse {
    if (!row) return { deviceId, desired: null, reported: null, inSync: false };
    const reported =
      row.reported !== null && row.reportedAt !== null && row.reportedSeq !== null
        ? {
            desiredVersion: row.reportedVersion,
            current: row.reported,
            seq: row.reportedSeq,
            reportedAt: row.reportedAt.toISOString(),
          }
        : null;
    return {
      deviceId,
      desired: {
        v: SCHEMA_VERSION,
        version: row.desiredVersion,
        ts: row.desiredAt.getTime(),
        spec: row.desiredSpec,
      },
      reported,
      inSync: reported?.desiredVersion === row.desiredVersion,
    };
  }

  private serialised<T>(deviceId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(deviceId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.chains.set(deviceId, settled);
    void settled.then(() => {
      if (this.chains.get(deviceId) === settled) this.chains.delete(deviceId);
    });
    return next;
  }
}
