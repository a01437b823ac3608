import { z } from 'zod';
import {
  AgentIdSchema,
  DeviceIdSchema,
  RUN_STATUSES,
  RunEventSchema,
  RunRecordSchema,
  type RunEvent,
  type RunRecord,
} from '@agentbox/schemas';
import type { RunEventRow } from './run-event.entity.js';
import type { RunRow } from './run.entity.js';

const IsoTimestamp = z.iso.datetime();

export const RUNS_MAX_LIMIT = 200;

/** A run as the API returns it: the box's record with ISO times, plus the box it ran on. */
export const RunDtoSchema = RunRecordSchema.extend({
  deviceId: DeviceIdSchema,
  createdAt: IsoTimestamp,
  startedAt: IsoTimestamp.optional(),
  endedAt: IsoTimestamp.optional(),
  updatedAt: IsoTimestamp.describe('when the fleet service last changed this record'),
});
export type RunDto = z.infer<typeof RunDtoSchema>;

export const RunDetailDtoSchema = RunDtoSchema.extend({
  events: z.array(RunEventSchema).describe('the steps of the run, by index'),
});
export type RunDetailDto = z.infer<typeof RunDetailDtoSchema>;

export const RunListQuerySchema = z.object({
  deviceId: DeviceIdSchema.optional(),
  agentId: AgentIdSchema.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(RUNS_MAX_LIMIT).default(50),
  before: z.iso.datetime({ offset: true }).optional().describe('only runs created before this time'),
});
export type RunListQuery = z.output<typeof RunListQuerySchema>;

const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

export function toRunDto(row: RunRow): RunDto {
  const dto: RunDto = {
    id: row.id,
    deviceId: row.deviceId,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    trigger: row.trigger,
    status: row.status,
    createdAt: new Date(row.createdAt).toISOString(),
    steps: row.steps,
    usage: { inputTokens: row.inputTokens, outputTokens: row.outputTokens },
    updatedAt: row.updatedAt.toISOString(),
  };
  if (row.input !== null) dto.input = row.input;
  if (row.output !== null) dto.output = row.output;
  if (row.error !== null) dto.error = row.error;
  const startedAt = iso(row.startedAt);
  const endedAt = iso(row.endedAt);
  if (startedAt) dto.startedAt = startedAt;
  if (endedAt) dto.endedAt = endedAt;
  return dto;
}

/** The run as the box reported it (epoch ms), for the live stream. */
export function toRunRecord(row: RunRow): RunRecord {
  const record: RunRecord = {
    id: row.id,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    trigger: row.trigger,
    status: row.status,
    createdAt: row.createdAt,
    steps: row.steps,
    usage: { inputTokens: row.inputTokens, outputTokens: row.outputTokens },
  };
  if (row.input !== null) record.input = row.input;
  if (row.output !== null) record.output = row.output;
  if (row.error !== null) record.error = row.error;
  if (row.startedAt !== null) record.startedAt = row.startedAt;
  if (row.endedAt !== null) record.endedAt = row.endedAt;
  return record;
}

export function toRunEvent(row: RunEventRow): RunEvent {
  const event: RunEvent = {
    runId: row.runId,
    agentId: row.agentId,
    index: row.idx,
    ts: row.ts,
    type: row.type,
  };
  if (row.name !== null) event.name = row.name;
  if (row.data !== null && row.data !== undefined) event.data = row.data;
  if (row.inputTokens !== null) event.inputTokens = row.inputTokens;
  if (row.outputTokens !== null) event.outputTokens = row.outputTokens;
  if (row.durationMs !== null) event.durationMs = row.durationMs;
  if (row.error !== null) event.error = row.error;
  return event;
}
