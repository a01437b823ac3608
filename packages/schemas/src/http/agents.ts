import { z } from 'zod';
import {
  AgentDefinitionSchema,
  AgentIdSchema,
  AssignmentTargetSchema,
  RecordIdSchema,
  ReportedAgentSchema,
} from '../agents.js';
import { DeviceIdSchema } from '../ids.js';
import { NameSchema } from '../names.js';
import { IsoTimestampSchema } from './common.js';

/** A definition as people write it: the wire schema, with the name rule on its name. */
const AgentDefinitionRequestSchema = AgentDefinitionSchema.extend({ name: NameSchema });

export const AgentCreateRequestSchema = z.object({
  id: AgentIdSchema,
  definition: AgentDefinitionRequestSchema,
});
export type AgentCreateRequest = z.input<typeof AgentCreateRequestSchema>;

/** A new version of the definition; the whole definition, never a patch. */
export const AgentUpdateRequestSchema = z.object({ definition: AgentDefinitionRequestSchema });
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

/**
 * `running` until every box the assignment reaches has its new desired document (stored and handed to the
 * broker), then `done`; `failed` when the job stopped before that (its replica stopped, the database failed).
 */
export const ASSIGNMENT_JOB_STATES = ['running', 'done', 'failed'] as const;
export const AssignmentJobStateSchema = z.enum(ASSIGNMENT_JOB_STATES);
export type AssignmentJobState = z.infer<typeof AssignmentJobStateSchema>;

/** The delivery of an assignment to the boxes it reaches (docs/architecture.md, "Fan-out"). */
export const AssignmentJobDtoSchema = z.object({
  id: z.string(),
  assignmentId: z.string(),
  agentId: AgentIdSchema,
  target: AssignmentTargetSchema,
  state: AssignmentJobStateSchema,
  /** Boxes the assignment reached when it was made. */
  total: z.number().int().nonnegative(),
  /** Boxes whose document is stored and published (or already held the agent). */
  done: z.number().int().nonnegative(),
  /** Boxes whose document could not be written (too large, the database failed). */
  failed: z.number().int().nonnegative(),
  error: z.string().nullable(),
  createdAt: IsoTimestampSchema,
  finishedAt: IsoTimestampSchema.nullable(),
});
export type AssignmentJobDto = z.infer<typeof AssignmentJobDtoSchema>;

/** The answer to a new assignment (202, with its job) or to one that already existed (200, `job: null`). */
export const AssignmentAcceptedDtoSchema = AssignmentDtoSchema.extend({
  job: AssignmentJobDtoSchema.nullable(),
});
export type AssignmentAcceptedDto = z.infer<typeof AssignmentAcceptedDtoSchema>;

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
