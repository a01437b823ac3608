import { Injectable } from '@nestjs/common';
import { type RunDetailDto, type RunDto, type RunListQuery } from '@agentbox/schemas';
import { toRunDto, toRunEvent } from './runs.dto.js';
import { RunException } from './runs.exception.js';
import { RunsStore } from './runs.store.js';

/** The read side of runs for the console. */
@Injectable()
export class RunsService {
  constructor(private readonly store: RunsStore) {}

  async list(query: RunListQuery): Promise<RunDto[]> {
    return (await this.store.list(query)).map(toRunDto);
  }

  async get(id: string): Promise<RunDetailDto> {
    const row = await this.store.findOne(id);
    if (!row) throw new RunException('RUN_NOT_FOUND', `Run ${id} not found`);
    const events = await this.store.eventsOf(id);
    return { ...toRunDto(row), events: events.map(toRunEvent) };
  }
}
