import { z } from 'zod';
import { DeviceIdSchema } from './ids.js';
import { TagSchema } from './names.js';

/**
 * AI agents that boxes run around the clock: what the cloud defines (agents, model providers,
 * assignments), what it delivers to a box (`down/desired` spec.agents / spec.providers) and what the
 * box reports back (`up/state` current.agents, `up/runs`, `up/run-events`, `up/usage`).
 */

const EpochMs = z.number().int().nonnegative().describe('milliseconds since the Unix epoch');

/** Slugs: agent and provider ids are file and directory names on the box, so they stay plain. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const Slug = (what: string) =>
  z
    .string()
    .regex(
      SLUG_PATTERN,
      `${what} must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit`,
    );

export const AgentIdSchema = Slug('agent id');
export const ProviderIdSchema = Slug('provider id');
/** Run, usage and event ids: generated on the box (UUID v4 or v7), unique fleet-wide. */
export const RecordIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'record id must be 8-64 characters of A-Z, a-z, 0-9, "_" or "-"');
/** A conversation's id: made by the cloud when a conversation starts, kept by the box with its turns. */
export const ConversationIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'conversation id must be 8-64 characters of A-Z, a-z, 0-9, "_" or "-"');

// ---------------------------------------------------------------- providers

/** A model provider: any OpenAI-compatible endpoint. The plain document never holds the API key. */
export const ProviderDefinitionSchema = z.object({
  name: z.string().min(1).max(100),
  kind: z.literal('openai-compatible').default('openai-compatible'),
  baseUrl: z.url({
    protocol: /^https?$/,
    error: 'baseUrl must be an http(s) URL, e.g. https://api.deepseek.com/v1',
  }),
  /** Model ids offered in forms; any model id may still be used. */
  models: z.array(z.string().min(1).max(200)).max(100).default([]),
});
export type ProviderDefinition = z.infer<typeof ProviderDefinitionSchema>;

/**
 * A secret sealed for one box: X25519 ECDH between an ephemeral key and the box's `secretsKey`
 * (from its birth message), HKDF-SHA256 (info `agentbox-secret-v1`) to an AES-256-GCM key.
 * Only that box can open it; brokers and the desired-state store never see the plain text.
 */
export const SealedSecretSchema = z.object({
  alg: z.literal('x25519-hkdf-sha256-aes256gcm'),
  /** Ephemeral public key, base64 of the DER SPKI. */
  epk: z.string().min(1).max(200),
  iv: z.string().min(1).max(64),
  ct: z.string().min(1).max(8_192),
  tag: z.string().min(1).max(64),
});
export type SealedSecret = z.infer<typeof SealedSecretSchema>;

/** A provider as delivered to a box. */
export const DesiredProviderSchema = z.object({
  id: ProviderIdSchema,
  version: z.number().int().positive(),
  baseUrl: z.string().url(),
  /** Absent when the provider needs no key (a local Ollama) or the box has not sent its secrets key yet. */
  apiKey: SealedSecretSchema.optional(),
});
export type DesiredProvider = z.infer<typeof DesiredProviderSchema>;

// ---------------------------------------------------------------- agents

export const ModelRefSchema = z.object({
  provider: ProviderIdSchema,
  model: z.string().min(1).max(200),
});
export type ModelRef = z.infer<typeof ModelRefSchema>;

const HostPattern = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

/** Tools an agent may use; each is granted explicitly, with its own limits. */
export const ToolGrantSchema = z.discriminatedUnion('tool', [
  z.object({
    tool: z.literal('http.fetch'),
    /** Host names (optionally `*.example.com`, optionally with a port) the agent may fetch from. */
    allowHosts: z
      .array(
        z.string().regex(HostPattern, 'allowHosts holds host names such as api.example.com or *.example.com'),
      )
      .min(1)
      .max(50),
    maxBytes: z.number().int().positive().max(5_000_000).default(200_000),
    timeoutMs: z.number().int().positive().max(60_000).default(10_000),
  }),
  z.object({ tool: z.literal('mqtt.publish') }),
  z.object({
    tool: z.literal('files.read'),
    maxBytes: z.number().int().positive().max(5_000_000).default(200_000),
  }),
  z.object({
    tool: z.literal('files.write'),
    maxBytes: z.number().int().positive().max(5_000_000).default(200_000),
  }),
  z.object({ tool: z.literal('memory') }),
  z.object({ tool: z.literal('notify') }),
]);
export type ToolGrant = z.infer<typeof ToolGrantSchema>;
export const TOOL_IDS = [
  'http.fetch',
  'mqtt.publish',
  'files.read',
  'files.write',
  'memory',
  'notify',
] as const;
export type ToolId = (typeof TOOL_IDS)[number];

export const TriggerSchema = z.discriminatedUnion('type', [
  /** Five or six field cron expression (croner syntax), in the box's time zone unless one is given. */
  z.object({
    type: z.literal('cron'),
    expression: z.string().min(9).max(100),
    timezone: z.string().max(64).optional(),
    input: z.string().max(10_000).optional(),
  }),
  z.object({
    type: z.literal('interval'),
    everySec: z
      .number()
      .int()
      .min(1)
      .max(31 * 86_400),
    input: z.string().max(10_000).optional(),
  }),
  /** Tasks sent from the console (`agent.run` command). */
  z.object({ type: z.literal('message') }),
  /** POST http://127.0.0.1:{AGENTBOX_WEBHOOK_PORT}/agents/{agentId}/runs on the box (loopback only). */
  z.object({ type: z.literal('webhook') }),
]);
export type Trigger = z.infer<typeof TriggerSchema>;

export const BUSY_STRATEGIES = ['reject', 'enqueue', 'interrupt'] as const;

export const AgentDefinitionSchema = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(1_000).default(''),
  instructions: z.string().min(1).max(50_000),
  model: ModelRefSchema,
  /** Tried in order when the model fails after its retries. */
  fallbacks: z.array(ModelRefSchema).max(5).default([]),
  tools: z
    .array(ToolGrantSchema)
    .max(TOOL_IDS.length)
    .default([])
    .refine(
      (tools) => new Set(tools.map((t) => t.tool)).size === tools.length,
      'each tool may be granted once',
    ),
  triggers: z
    .array(TriggerSchema)
    .max(20)
    .default([{ type: 'message' }]),
  budget: z
    .object({
      tokensPerDay: z.number().int().positive().max(1_000_000_000).default(200_000),
      tokensPerRun: z.number().int().positive().max(100_000_000).default(20_000),
    })
    .default({ tokensPerDay: 200_000, tokensPerRun: 20_000 }),
  limits: z
    .object({
      maxSteps: z.number().int().min(1).max(100).default(8),
      runTimeoutSec: z.number().int().min(1).max(86_400).default(300),
      memoryMb: z.number().int().min(32).max(16_384).default(256),
      maxOutputTokens: z.number().int().min(1).max(1_000_000).default(1_024),
    })
    .default({ maxSteps: 8, runTimeoutSec: 300, memoryMb: 256, maxOutputTokens: 1_024 }),
  concurrency: z
    .object({
      /** Runs of this agent at once, each in its own process; the agent is busy when all are in use. */
      maxParallel: z.number().int().min(1).max(20).default(1),
      onBusy: z.enum(BUSY_STRATEGIES).default('enqueue'),
      queueSize: z.number().int().min(1).max(1_000).default(10),
    })
    .default({ maxParallel: 1, onBusy: 'enqueue', queueSize: 10 }),
  /**
   * Conversations (docs/protocol.md section 11): the newest earlier turns that fit in `maxTokens`
   * go to the model with each message. Older ones are summarized through the same metered gateway and
   * the summary goes with them (`summarize`, on by default), or dropped. Absent: the box's defaults.
   */
  history: z
    .object({
      maxTokens: z.number().int().min(0).max(1_000_000).optional(),
      summarize: z.boolean().default(true),
    })
    .optional(),
});
export type AgentDefinition = z.infer<typeof AgentDefinitionSchema>;
/** What a form or an API body holds before defaults are filled in. */
export type AgentDefinitionInput = z.input<typeof AgentDefinitionSchema>;

/** An agent as delivered to a box: a definition at one version. */
export const DesiredAgentSchema = z.object({
  id: AgentIdSchema,
  version: z.number().int().positive(),
  definition: AgentDefinitionSchema,
});
export type DesiredAgent = z.infer<typeof DesiredAgentSchema>;

// ---------------------------------------------------------------- assignments

export const AssignmentTargetSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('device'), deviceId: DeviceIdSchema }),
  z.object({
    type: z.literal('tag'),
    tag: TagSchema,
  }),
  z.object({ type: z.literal('all') }),
]);
export type AssignmentTarget = z.infer<typeof AssignmentTargetSchema>;

// ---------------------------------------------------------------- reported by the box

export const AGENT_RUNTIME_STATUSES = [
  'installing',
  'idle',
  'running',
  'crash-looping',
  'budget-exhausted',
  'error',
] as const;
export type AgentRuntimeStatus = (typeof AGENT_RUNTIME_STATUSES)[number];

export const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'timed-out',
  'interrupted',
  'budget-exhausted',
  'rejected',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: readonly RunStatus[] = [
  'succeeded',
  'failed',
  'timed-out',
  'interrupted',
  'budget-exhausted',
  'rejected',
];

/** One agent's state in `up/state` current.agents. */
export const ReportedAgentSchema = z.object({
  version: z.number().int().positive(),
  status: z.enum(AGENT_RUNTIME_STATUSES),
  detail: z.string().max(500).optional(),
  lastRunAt: EpochMs.optional(),
  lastRunStatus: z.enum(RUN_STATUSES).optional(),
  queued: z.number().int().nonnegative().default(0),
  tokensToday: z.number().int().nonnegative().default(0),
});
export type ReportedAgent = z.infer<typeof ReportedAgentSchema>;

export const TokenCountsSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});

export const RunTriggerSchema = z.object({
  type: z.enum(['cron', 'interval', 'message', 'webhook']),
  /** The command id of a console task, the cron expression, ... */
  detail: z.string().max(200).optional(),
});

/** A run's summary; sent when it starts and again when it ends (the latest status wins). */
export const RunRecordSchema = z.object({
  id: RecordIdSchema,
  agentId: AgentIdSchema,
  agentVersion: z.number().int().positive(),
  trigger: RunTriggerSchema,
  /** Set when the run answers a message of a conversation (the `agent.run` command's `conversationId`). */
  conversationId: ConversationIdSchema.optional(),
  status: z.enum(RUN_STATUSES),
  input: z.string().max(10_000).optional(),
  output: z.string().max(50_000).optional(),
  error: z.string().max(2_000).optional(),
  createdAt: EpochMs,
  startedAt: EpochMs.optional(),
  endedAt: EpochMs.optional(),
  steps: z.number().int().nonnegative(),
  usage: TokenCountsSchema,
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

export const RUN_EVENT_TYPES = ['step', 'model', 'tool-call', 'tool-result', 'text', 'status'] as const;

/** One step of a run, in order (index from 0); the cloud keeps each (runId, index) once. */
export const RunEventSchema = z.object({
  runId: RecordIdSchema,
  agentId: AgentIdSchema,
  index: z.number().int().nonnegative(),
  ts: EpochMs,
  type: z.enum(RUN_EVENT_TYPES),
  /** Tool name, model id, status, ... */
  name: z.string().max(200).optional(),
  /** Arguments, results or text, truncated to a few KiB on the box. */
  data: z.unknown().optional(),
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
  durationMs: z.number().int().nonnegative().optional(),
  error: z.string().max(2_000).optional(),
});
export type RunEvent = z.infer<typeof RunEventSchema>;

/** One model call's usage; the cloud counts each id once. */
export const UsageRecordSchema = TokenCountsSchema.extend({
  id: RecordIdSchema,
  agentId: AgentIdSchema,
  runId: RecordIdSchema.optional(),
  provider: ProviderIdSchema,
  model: z.string().min(1).max(200),
  ts: EpochMs,
  /** True when the provider sent no usage (stream cut or aborted) and the counts were estimated from the text. */
  estimated: z.boolean(),
  outcome: z.enum(['ok', 'error', 'aborted']),
});
export type UsageRecord = z.infer<typeof UsageRecordSchema>;
