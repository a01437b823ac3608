import type { RunDto, RunEvent, RunRecord } from '@agentbox/schemas';
import type { RunEventRow } from './run-event.entity.js';
import type { RunRow } from './run.entity.js';

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
