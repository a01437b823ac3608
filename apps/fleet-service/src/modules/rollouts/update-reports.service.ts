import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { UpdateMessage } from '@agentbox/schemas';
import type { UpdateReportsPort } from '../../common/ports.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { parseOfferId } from './offer-id.js';
import { DeviceUpdateRow } from './rollout.entity.js';

/**
 * What boxes report on `up/update`: every box's update history, and the queue the leading replica's
 * engine reads (rows not yet `processed`). Any replica may ingest; only the leader steps rollouts.
 */
@Injectable()
export class UpdateReportsService implements UpdateReportsPort {
  constructor(
    @InjectRepository(DeviceUpdateRow) private readonly updates: Repository<DeviceUpdateRow>,
    private readonly live: LiveEventsService,
  ) {}

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

  /** The box's latest reports, newest first by arrival (ties are ordered by the caller). */
  history(deviceId: string, limit: number): Promise<DeviceUpdateRow[]> {
    return this.updates.find({
      where: { deviceId },
      order: { receivedAt: 'DESC', reportedAt: 'DESC' },
      take: limit,
    });
  }
}
