import { z } from 'zod';
import { AgentIdSchema } from '../agents.js';
import { DeviceIdSchema } from '../ids.js';
import { IsoTimestampSchema } from './common.js';

export const USAGE_GROUPS = ['agent', 'device', 'model', 'provider'] as const;

export const UsageQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  bucket: z.enum(['hour', 'day']).default('day'),
  groupBy: z.enum(USAGE_GROUPS).optional(),
  deviceId: DeviceIdSchema.optional(),
  agentId: AgentIdSchema.optional(),
});
export type UsageQuery = z.input<typeof UsageQuerySchema>;

const Tokens = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});

export const UsagePointSchema = Tokens.extend({
  start: IsoTimestampSchema.describe('start of the bucket (UTC)'),
});

export const UsageResponseSchema = z.object({
  from: IsoTimestampSchema,
  to: IsoTimestampSchema,
  bucket: z.enum(['hour', 'day']),
  groupBy: z.enum(USAGE_GROUPS).nullable().describe('null: one series with key "all"'),
  series: z.array(
    z.object({
      key: z.string().describe('agent id, device id, model or provider id; "all" without groupBy'),
      points: z.array(UsagePointSchema).describe('one point per bucket of the range, zeros included'),
    }),
  ),
  totals: Tokens.extend({
    estimatedRecords: z.number().int().nonnegative().describe('records whose counts were estimated'),
  }),
});
export type UsageResponse = z.infer<typeof UsageResponseSchema>;

export const UsageSummarySchema = z.object({
  today: Tokens.describe('since 00:00 UTC'),
  week: Tokens.describe('the last 7 days, today included'),
  budgetPerDay: z
    .number()
    .int()
    .nonnegative()
    .describe('sum of tokensPerDay over every (agent, box) pair assigned'),
  topAgents: z.array(z.object({ agentId: AgentIdSchema, tokens: z.number().int().nonnegative() })),
  topDevices: z.array(z.object({ deviceId: DeviceIdSchema, tokens: z.number().int().nonnegative() })),
});
export type UsageSummary = z.infer<typeof UsageSummarySchema>;
