import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { EventsMessage } from '@agentbox/schemas';
import { DeviceEventRow } from './device-event.entity.js';

/** Events boxes report; a redelivered message (same deviceId, seq) is ignored. */
@Injectable()
export class DeviceEventsStore {
  constructor(@InjectRepository(DeviceEventRow) private readonly events: Repository<DeviceEventRow>) {}

  async insert(deviceId: string, message: EventsMessage): Promise<void> {
    const rows = message.events.map((event, idx) => ({
      deviceId,
      seq: message.seq,
      idx,
      ts: message.ts,
      type: event.type,
      level: event.level,
      message: event.message,
      data: event.data ?? null,
    })) as QueryDeepPartialEntity<DeviceEventRow>[];
    await this.events.createQueryBuilder().insert().into(DeviceEventRow).values(rows).orIgnore().execute();
  }

  /** The latest events of a box, newest first. */
  latest(deviceId: string, limit: number): Promise<DeviceEventRow[]> {
    return this.events.find({
      where: { deviceId },
      order: { ts: 'DESC', seq: 'DESC', idx: 'ASC' },
      take: limit,
    });
  }

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    const result = await this.events.delete({ ts: LessThan(cutoffMs) });
    return result.affected ?? 0;
  }
}
