import { z } from 'zod';
import {
  AgentDefinitionSchema,
  AgentIdSchema,
  AssignmentTargetSchema,
  RecordIdSchema,
  ReportedAgentSchema,
} from '../agents.js';
import { DeviceIdSchema } from '../ids.js';
import { IsoTimestampSchema } from './common.js';

export const AgentCreateRequestSchema = z.object({
  id: AgentIdSchema,
  definition: AgentDefinitionSchema,
});
export type AgentCreateRequest = z.input<typeof AgentCreateRequestSchema>;

/** A new version of the definition; the whole definition, never a patch. */
export const AgentUpdateRequestSchema = z.object({ definition: AgentDefinitionSchema });
export type AgentUpdateRequest = z.input<typeof AgentUpdateRequestSchema>;

export const AssignmentCreateRequestSchema = z.object({
  agentId: AgentIdSchema,
  target: AssignmentTargetSchema,
});
export type AssignmentCreateRequest = z.input<typeof AssignmentCreateRequestSchema>;

export const AgentTaskRequestSchema = z.object({
  deviceId: DeviceIdSchema,
  input: z.string().min(1).max(10_000),
});
export type AgentTaskRequest = z.input<typeof AgentTaskRequestSchema>;

export const AgentTaskResponseSchema = z.object({
  runId: RecordIdSchema,
  commandId: z.string(),
});
export type AgentTaskResponse = z.infer<typeof AgentTaskResponseSchema>;

export const AssignmentDtoSchema = z.object({
  id: z.string(),
  agentId: AgentIdSchema,
  target: AssignmentTargetSchema,
  createdAt: IsoTimestampSchema,
});
export type AssignmentDto = z.infer<typeof AssignmentDtoSchema>;

export const AgentDtoSchema = z.object({
  id: AgentIdSchema,
  version: z.number().int().positive(),
  definition: AgentDefinitionSchema,
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
  assignments: z.array(AssignmentDtoSchema),
});
export type AgentDto = z.infer<typeof AgentDtoSchema>;

export const AgentVersionDtoSchema = z.object({
  version: z.number().int().positive(),
  definition: AgentDefinitionSchema,
  createdAt: IsoTimestampSchema,
});
export type AgentVersionDto = z.infer<typeof AgentVersionDtoSchema>;

/** One agent of one box: what it should run (desiredVersion, null when it should not) and what it reports. */
export const DeviceAgentDtoSchema = z.object({
  agentId: AgentIdSchema,
  name: z.string(),
  desiredVersion: z.number().int().positive().nullable(),
  reported: ReportedAgentSchema.nullable(),
});
export type DeviceAgentDto = z.infer<typeof DeviceAgentDtoSchema>;
