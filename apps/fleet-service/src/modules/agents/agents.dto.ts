import { z } from 'zod';
import {
  AgentDefinitionSchema,
  AgentIdSchema,
  AssignmentTargetSchema,
  RecordIdSchema,
  ReportedAgentSchema,
  type AssignmentTarget,
} from '@agentbox/schemas';
import type { AgentRow, AgentVersionRow } from './agent.entity.js';
import type { AssignmentRow } from './assignment.entity.js';

const IsoTimestamp = z.iso.datetime();

export const AssignmentDtoSchema = z.object({
  id: z.string(),
  agentId: AgentIdSchema,
  target: AssignmentTargetSchema,
  createdAt: IsoTimestamp,
});
export type AssignmentDto = z.infer<typeof AssignmentDtoSchema>;

export const AgentDtoSchema = z.object({
  id: AgentIdSchema,
  version: z.number().int().positive(),
  definition: AgentDefinitionSchema,
  createdAt: IsoTimestamp,
  updatedAt: IsoTimestamp,
  assignments: z.array(AssignmentDtoSchema),
});
export type AgentDto = z.infer<typeof AgentDtoSchema>;

export const AgentVersionDtoSchema = z.object({
  version: z.number().int().positive(),
  definition: AgentDefinitionSchema,
  createdAt: IsoTimestamp,
});
export type AgentVersionDto = z.infer<typeof AgentVersionDtoSchema>;

export const AgentTaskResponseSchema = z.object({
  runId: RecordIdSchema,
  commandId: z.string(),
});
export type AgentTaskResponse = z.infer<typeof AgentTaskResponseSchema>;

/** One agent of one box: what it should run (desiredVersion, null when it should not) and what it reports. */
export const DeviceAgentDtoSchema = z.object({
  agentId: AgentIdSchema,
  name: z.string(),
  desiredVersion: z.number().int().positive().nullable(),
  reported: ReportedAgentSchema.nullable(),
});
export type DeviceAgentDto = z.infer<typeof DeviceAgentDtoSchema>;

export function targetOf(row: AssignmentRow): AssignmentTarget {
  switch (row.targetType) {
    case 'device':
      return { type: 'device', deviceId: row.targetValue };
    case 'tag':
      return { type: 'tag', tag: row.targetValue };
    case 'all':
      return { type: 'all' };
  }
}

export function targetColumns(target: AssignmentTarget): Pick<AssignmentRow, 'targetType' | 'targetValue'> {
  switch (target.type) {
    case 'device':
      return { targetType: 'device', targetValue: target.deviceId };
    case 'tag':
      return { targetType: 'tag', targetValue: target.tag };
    case 'all':
      return { targetType: 'all', targetValue: '' };
  }
}

export function toAssignmentDto(row: AssignmentRow): AssignmentDto {
  return { id: row.id, agentId: row.agentId, target: targetOf(row), createdAt: row.createdAt.toISOString() };
}

export function toAgentDto(row: AgentRow, assignments: AssignmentRow[]): AgentDto {
  return {
    id: row.id,
    version: row.version,
    definition: row.definition,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    assignments: assignments.map(toAssignmentDto),
  };
}

export function toAgentVersionDto(row: AgentVersionRow): AgentVersionDto {
  return { version: row.version, definition: row.definition, createdAt: row.createdAt.toISOString() };
}
