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
} from '@agentbox/schemas';
import { CommonException } from '../../common/errors/domain-exception.js';
import { BROKER, type BrokerPort } from '../../common/ports.js';
import { AppConfig } from '../../config/app-config.js';
import { DevicesService } from '../devices/devices.service.js';
import { SerialByKey } from '../../common/serial-by-key.js';
import { DeviceStateRow } from './device-state.entity.js';
import {
  type ComposeSections,
  mergeSections,
  type SectionOwner,
  type SectionWrite,
} from './desired-sections.js';
import { DesiredStateException } from './desired-state.exception.js';
import {
  BulkDesiredWriter,
  type BulkEntry,
  type BulkProgress,
  desiredMessage,
} from './desired-state-bulk.js';

export type { ComposeSections, SectionWrite } from './desired-sections.js';

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
  private readonly serial = new SerialByKey();
  private readonly bulk: BulkDesiredWriter;

  constructor(
    @InjectRepository(DeviceStateRow) private readonly states: Repository<DeviceStateRow>,
    @Inject(BROKER) private readonly broker: BrokerPort,
    private readonly devices: DevicesService,
    private readonly config: AppConfig,
  ) {
    this.bulk = new BulkDesiredWriter({
      states,
      serial: this.serial,
      checkBytes: (deviceId, bytes) => this.checkBytes(deviceId, bytes),
      publish: (row, payload) => this.publish(row, payload),
    });
  }

  async get(deviceId: string): Promise<DesiredStateResponse> {
    await this.devices.get(deviceId);
    const row = await this.states.findOneBy({ deviceId });
    return this.toResponse(deviceId, row);
  }

  /**
   * The operator's `PUT /devices/{id}/desired`: replaces the operator's sections (see desired-sections.ts),
   * as a new version, published retained. Too large a document is refused with HTTP 413.
   */
  async setDesired(deviceId: string, spec: DesiredStateMessage['spec']): Promise<DesiredStateResponse> {
    await this.devices.get(deviceId);
    try {
      const row = await this.write(deviceId, 'operator', () => ({ sections: spec }));
      return this.toResponse(deviceId, row);
    } catch (error) {
      if (!(error instanceof DesiredStateException)) throw error;
      throw new CommonException(
        'PAYLOAD_TOO_LARGE',
        `The desired state is ${error.size.bytes} bytes once encoded; the MQTT payload cap is ${error.size.cap}`,
      );
    }
  }

  /**
   * The one write path of every section owner: serialised per box, `compose` sees the stored row (null
   * before the first write) and returns the owner's sections, or null when there is nothing to write.
   * Sections other owners hold are kept. The document is checked against the MQTT payload cap
   * (DesiredStateException PAYLOAD_TOO_LARGE, nothing stored), stored as version + 1 and published
   * retained. Returns the stored row, or null when nothing was written.
   */
  write(
    deviceId: string,
    owner: SectionOwner,
    compose: (current: DeviceStateRow | null) => SectionWrite,
  ): Promise<DeviceStateRow>;
  write(deviceId: string, owner: SectionOwner, compose: ComposeSections): Promise<DeviceStateRow | null>;
  write(deviceId: string, owner: SectionOwner, compose: ComposeSections): Promise<DeviceStateRow | null> {
    return this.serial.run(deviceId, async () => {
      const existing = await this.states.findOneBy({ deviceId });
      const written = compose(existing);
      if (written === null) return null;
      const spec = mergeSections(owner, existing, written.sections);
      this.checkSize(deviceId, spec);
      const now = new Date();
      await this.ensureRow(deviceId, now);
      await this.states.increment({ deviceId }, 'desiredVersion', 1);
      await this.states.update({ deviceId }, {
        desiredSpec: spec,
        desiredAt: now,
        ...(written.agentsFingerprint === undefined ? {} : { agentsFingerprint: written.agentsFingerprint }),
      } as QueryDeepPartialEntity<DeviceStateRow>);
      const row = await this.states.findOneByOrFail({ deviceId });
      await this.publish(row, desiredMessage(row));
      return row;
    });
  }

  /**
   * `write` for many boxes at once (an assignment to every box): the same rules per box, with one
   * database round trip per chunk of boxes and the publishes pipelined (desired-state-bulk.ts).
   * `onProgress` gets the cumulative counts as boxes settle; a box that fails is counted, not thrown.
   */
  writeMany(
    owner: SectionOwner,
    entries: readonly BulkEntry[],
    onProgress?: (progress: BulkProgress) => void,
  ): Promise<BulkProgress> {
    return this.bulk.write(owner, entries, onProgress);
  }

  /**
   * Called when a box comes online: creates version 0 (empty spec) the first time and (re)publishes the
   * current document, so every box always finds one retained, even after a broker without persistence restarted.
   */
  async ensurePublished(deviceId: string): Promise<void> {
    await this.serial.run(deviceId, async () => {
      await this.ensureRow(deviceId, new Date());
      const row = await this.states.findOneByOrFail({ deviceId });
      await this.publish(row, desiredMessage(row));
    });
  }

  /** Stores what the box reported, unless a newer report (higher seq) is already stored. */
  async recordReported(deviceId: string, report: ReportedStateMessage, at: Date): Promise<void> {
    await this.serial.run(deviceId, async () => {
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

  private checkSize(deviceId: string, spec: Record<string, unknown>): void {
    const bytes = encodeMessage({
      v: SCHEMA_VERSION,
      version: Number.MAX_SAFE_INTEGER,
      ts: Date.now(),
      spec,
    }).length;
    this.checkBytes(deviceId, bytes);
  }

  /** Throws when a document of `bytes` once encoded (at the largest version) would pass the MQTT payload cap. */
  private checkBytes(deviceId: string, bytes: number): void {
    const cap = this.config.maxPayloadBytes;
    if (bytes > cap) {
      throw new DesiredStateException(
        'PAYLOAD_TOO_LARGE',
        `The desired state of ${deviceId} would be ${bytes} bytes once encoded; the MQTT payload cap is ${cap}`,
        { bytes, cap },
      );
    }
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

  /** Publishes the row's document (`payload`), waiting at most PUBLISH_WAIT_MS; never rejects. */
  private async publish(
    row: Pick<DeviceStateRow, 'deviceId' | 'desiredVersion'>,
    payload: Buffer,
  ): Promise<void> {
    // While the broker is unreachable the MQTT client queues the publish and sends it on reconnect; the
    // request does not wait for that (the document is stored, and re-published whenever the box comes online).
    const published = this.broker.publishDesired(row.deviceId, payload).then(
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
}
