import type {
  AgentDefinition,
  DesiredAgent,
  DeviceEvent,
  ModelRef,
  RunEvent,
  RunRecord,
  RunTriggerSchema,
  UsageRecord,
} from '@agentbox/schemas';
import type { z } from 'zod';

/**
 * The seams between the parts of the box's agent runtime:
 *
 *   triggers ──► AgentSupervisor.trigger() ──► one child process per run (run worker)
 *                      │                              │ IPC: model calls and tool calls
 *                      ▼                              ▼
 *               RunReporter (store + spool)     ModelGatewayPort (metering, budgets) · ToolHost (grants)
 *
 * Agents reach models and tools only through the parent process, so metering, budgets and tool
 * grants cannot be bypassed by an agent's own process.
 */

export type RunTrigger = z.infer<typeof RunTriggerSchema>;

/** An OpenAI-style conversation message; plain data, so it crosses the IPC channel unchanged. */
export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; toolName: string; content: string };

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed JSON arguments. */
  input: unknown;
}

/** A tool as offered to the model: its name, what it does and a JSON Schema of its input. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelCallRequest {
  agentId: string;
  runId: string;
  /** The agent's model first, then its fallbacks, tried in that order. */
  models: readonly ModelRef[];
  system: string;
  messages: readonly ChatMessage[];
  tools: readonly ToolSpec[];
  maxOutputTokens: number;
  budget: AgentDefinition['budget'];
}

export interface ModelCallResult {
  provider: string;
  model: string;
  text: string;
  toolCalls: ToolCall[];
  finishReason: string;
  inputTokens: number;
  outputTokens: number;
  /** True when the provider sent no usage and the counts were estimated from the text. */
  estimated: boolean;
  durationMs: number;
}

/** Why a model call was refused or failed, in words a person can act on. */
export const ModelGatewayErrorCode = {
  /** Reserving prompt + max output tokens would exceed the run or the day budget. */
  BUDGET_EXHAUSTED: 'BUDGET_EXHAUSTED',
  /** No configured provider for the model (unknown id, or its key not delivered yet). */
  PROVIDER_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  /** Every model (after retries) failed. */
  MODEL_FAILED: 'MODEL_FAILED',
  ABORTED: 'ABORTED',
} as const;
export type ModelGatewayErrorCode = (typeof ModelGatewayErrorCode)[keyof typeof ModelGatewayErrorCode];

export class ModelGatewayError extends Error {
  override readonly name = 'ModelGatewayError';
  constructor(
    readonly code: ModelGatewayErrorCode,
    message: string,
    /** For BUDGET_EXHAUSTED: which budget, and when the day window reopens. */
    readonly detail?: { budget?: 'run' | 'day'; resetsAt?: number },
  ) {
    super(message);
  }

  /** Tokens the call consumed before it failed (a broken stream, an answer cut by an abort). */
  spent?: { inputTokens: number; outputTokens: number };
}

/** The model gateway as the rest of the runtime sees it (implemented in gateway/model-gateway.ts). */
export interface ModelGatewayPort {
  /** Reserves against the budgets, calls the model (retries, fallbacks), settles with real usage, records usage. */
  call(request: ModelCallRequest, signal?: AbortSignal): Promise<ModelCallResult>;
}

/** A provider as the box holds it once the desired state is applied (API key opened). */
export interface ResolvedProvider {
  id: string;
  version: number;
  baseUrl: string;
  apiKey?: string;
}

export interface ProviderDirectory {
  get(providerId: string): ResolvedProvider | undefined;
}

/** Receives what a run produces; implemented by the reporting side (local store + spool to the cloud). */
export interface RunReporter {
  run(record: RunRecord): void;
  event(event: RunEvent): void;
  usage(record: UsageRecord): void;
}

/** What the reconciler installs: one agent at one version. */
export type InstalledAgent = DesiredAgent;

export type TriggerOutcome =
  { accepted: true; runId: string; queued: boolean } | { accepted: false; reason: string };

/** The box's outbox as the agents use it (OutboxService). */
export interface AgentsOutbox {
  append(channel: 'runs' | 'run-events' | 'usage' | 'telemetry', message: object): Promise<unknown>;
  event(event: DeviceEvent): Promise<void>;
}

/** The agents' log, with structured fields. */
export interface AgentsLogger {
  log(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}
