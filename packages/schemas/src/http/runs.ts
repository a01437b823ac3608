import { z } from 'zod';
import { AgentIdSchema, RUN_STATUSES, RunEventSchema, RunRecordSchema } from '../agents.js';
import { DeviceIdSchema } from '../ids.js';
import { IsoTimestampSchema } from './common.js';

export const RUNS_MAX_LIMIT = 200;

/** A run as the API returns it: the box's record with ISO times, plus the box it ran on. */
export const RunDtoSchema = RunRecordSchema.extend({
  deviceId: DeviceIdSchema,
  createdAt: IsoTimestampSchema,
  startedAt: IsoTimestampSchema.optional(),
  endedAt: IsoTimestampSchema.optional(),
  updatedAt: IsoTimestampSchema.describe('when the fleet service last changed this record'),
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
