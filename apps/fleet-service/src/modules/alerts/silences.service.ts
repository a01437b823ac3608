import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import type { SilenceCreateRequestSchema, SilenceDto } from '@agentbox/schemas';
import type { z } from 'zod';
import { SilenceRow } from './alert.entity.js';
import { AlertException } from './alerts.exception.js';

type SilenceCreate = z.output<typeof SilenceCreateRequestSchema>;

function toDto(row: SilenceRow): SilenceDto {
  return {
    id: row.id,
    ...(row.ruleId !== null ? { ruleId: row.ruleId } : {}),
    ...(row.deviceId !== null ? { deviceId: row.deviceId } : {}),
    endsAt: new Date(row.endsAt).toISOString(),
    ...(row.comment !== null ? { comment: row.comment } : {}),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Whether one of `silences` covers the (rule, box) pair: a silence matches every field it names. */
export function isSilenced(silences: readonly SilenceRow[], ruleId: string, deviceId: string): boolean {
  return silences.some(
    (silence) =>
      (silence.ruleId === null || silence.ruleId === ruleId) &&
      (silence.deviceId === null || silence.deviceId === deviceId),
  );
}

/** Silences: matching alerts still show, marked silenced, but notify nobody until the silence ends. */
@Injectable()
export class SilencesService {
  constructor(@InjectRepository(SilenceRow) private readonly silences: Repository<SilenceRow>) {}

  async list(): Promise<SilenceDto[]> {
    return (await this.active(Date.now())).map(toDto);
  }

  /** Silences in force at `now`, soonest to end first. */
  active(now: number): Promise<SilenceRow[]> {
    return this.silences.find({ where: { endsAt: MoreThan(now) }, order: { endsAt: 'ASC', id: 'ASC' } });
  }

  async create(body: SilenceCreate, createdBy: string): Promise<{ id: string }> {
    const id = randomUUID();
    await this.silences.insert({
      id,
      ruleId: body.ruleId ?? null,
      deviceId: body.deviceId ?? null,
      endsAt: Date.parse(body.endsAt),
      comment: body.comment ?? null,
      createdBy,
      createdAt: new Date(),
    });
    return { id };
  }

  async remove(id: string): Promise<void> {
    const result = await this.silences.delete({ id });
    if (!result.affected) throw new AlertException('SILENCE_NOT_FOUND', `Silence ${id} not found`);
  }
}
