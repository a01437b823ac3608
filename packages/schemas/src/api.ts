import { z } from 'zod';
import {
  AgentDefinitionSchema,
  AgentIdSchema,
  AssignmentTargetSchema,
  ProviderDefinitionSchema,
  ProviderIdSchema,
} from './agents.js';
import { DeviceIdSchema } from './ids.js';

/** HTTP API bodies shared by the fleet service (validation) and the console (forms). */

export const LoginRequestSchema = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(1_000),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export const ClaimTokenCreateRequestSchema = z.object({
  ttlHours: z
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  maxUses: z.number().int().positive().max(100_000).default(1),
  note: z.string().max(200).optional(),
});
export type ClaimTokenCreateRequest = z.infer<typeof ClaimTokenCreateRequestSchema>;

/** Stable across restarts and reinstalls of the agent: derived from /etc/machine-id unless overridden. */
export const HardwareIdSchema = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'hardware id may hold only A-Z, a-z, 0-9, ".", "_", ":" and "-"');

export const ProvisionRequestSchema = z.object({
  claimToken: z.string().min(16).max(200),
  hardwareId: HardwareIdSchema,
  name: z.string().min(1).max(100).optional(),
});
export type ProvisionRequest = z.infer<typeof ProvisionRequestSchema>;

export const ProvisionResponseSchema = z.object({
  deviceId: DeviceIdSchema,
  mqtt: z.object({
    url: z.string().min(1),
    username: DeviceIdSchema,
    password: z.string().min(16),
  }),
});
export type ProvisionResponse = z.infer<typeof ProvisionResponseSchema>;

export const TagSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'tags hold A-Z, a-z, 0-9, ".", "_", ":" and "-"');

export const DeviceUpdateRequestSchema = z.object({
  name: z.string().min(1).max(100).optional(),
  tags: z.array(TagSchema).max(50).optional(),
});
export type DeviceUpdateRequest = z.infer<typeof DeviceUpdateRequestSchema>;

/** Error body of every HTTP error (brief 4). */
export const ApiErrorSchema = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  message: z.string(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

// ---------------------------------------------------------------- agents, providers, assignments, runs, usage

export const ProviderCreateRequestSchema = ProviderDefinitionSchema.extend({
  id: ProviderIdSchema,
  /** Write-only: stored encrypted, sealed per box on delivery, never returned. */
  apiKey: z.string().min(1).max(4_096).optional(),
});
export type ProviderCreateRequest = z.input<typeof ProviderCreateRequestSchema>;

export const ProviderUpdateRequestSchema = z.object({
  // No defaults here: a field left out keeps its stored value.
  name: ProviderDefinitionSchema.shape.name.optional(),
  kind: z.literal('openai-compatible').optional(),
  baseUrl: ProviderDefinitionSchema.shape.baseUrl.optional(),
  models: z.array(z.string().min(1).max(200)).max(100).optional(),
  /** A new key replaces the stored one; `null` removes it; absent keeps it. */
  apiKey: z.string().min(1).max(4_096).nullable().optional(),
});
export type ProviderUpdateRequest = z.input<typeof ProviderUpdateRequestSchema>;

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
