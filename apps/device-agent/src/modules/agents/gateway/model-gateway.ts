import { randomUUID } from 'node:crypto';
import { backoffDelay, sleepOrThrow } from '@agentbox/retry';
import type { ModelRef, UsageRecord } from '@agentbox/schemas';
import { APICallError } from 'ai';
import {
  ModelGatewayError,
  ModelGatewayErrorCode,
  type ModelCallRequest,
  type ModelCallResult,
  type ModelGatewayPort,
  type ProviderDirectory,
  type ResolvedProvider,
} from '../agents.contracts.js';
import { countTokens, streamAnswer } from './model-stream.js';
import { reservationPromptTokens } from './token-estimate.js';
import type { BudgetLedger } from './budget-ledger.js';

/** Below this many output tokens an answer is hardly useful, so the budget refuses instead of clamping. */
export const MIN_OUTPUT_TOKENS = 16;

export interface GatewayRetryPolicy {
  /** Further attempts per model after the first, for 429, 408, 409, 5xx, broken streams and connection failures. */
  maxRetries: number;
  /** Wait before retry n (from 0) when the provider sends no Retry-After: baseDelayMs * 2^n. */
  baseDelayMs: number;
  /** No wait is longer than this, whatever Retry-After asks for. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: GatewayRetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

/**
 * How long a call already under way may go on once its run is interrupted. The provider bills an
 * answer it has sent whether or not the box reads it, so an answer that arrives within this window is
 * read and metered (docs/protocol.md section 11); a longer one is cut, and its tokens estimated.
 */
export const DEFAULT_ABORT_GRACE_MS = 2_000;

export interface ModelGatewayOptions {
  providers: ProviderDirectory;
  ledger: BudgetLedger;
  /** Called once for every model attempt that consumed tokens; it must not throw. */
  onUsage: (record: UsageRecord) => void;
  newId?: () => string;
  retry?: Partial<GatewayRetryPolicy>;
  /** See DEFAULT_ABORT_GRACE_MS; 0 cuts a call the moment its run is interrupted. */
  abortGraceMs?: number;
  /** Retries, fallbacks and a failing onUsage are reported here; messages never hold API keys. */
  logger?: { warn(message: string): void };
}

type Attempt =
  | { kind: 'ok'; result: Omit<ModelCallResult, 'durationMs'> }
  | { kind: 'aborted' }
  | { kind: 'failed'; retryable: boolean; retryAfterMs?: number; reason: string };

const abortedError = () => new ModelGatewayError(ModelGatewayErrorCode.ABORTED, 'the model call was aborted');

/** Retry-After as milliseconds: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(
  headers: Record<string, string> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The only way agents reach models: every call reserves against the agent's day and run budgets
 * before a request leaves the box, is settled with the usage the provider reports (or an estimate
 * when a stream breaks off), and yields one usage record per attempt that consumed tokens. Retries
 * (honouring Retry-After) and fallback models are decided here, not in the SDK.
 */
export class ModelGateway implements ModelGatewayPort {
  private readonly providers: ProviderDirectory;
  private readonly ledger: BudgetLedger;
  private readonly onUsage: (record: UsageRecord) => void;
  private readonly newId: () => string;
  private readonly retry: GatewayRetryPolicy;
  private readonly logger: { warn(message: string): void } | undefined;
  private readonly abortGraceMs: number;

  constructor(options: ModelGatewayOptions) {
    this.providers = options.providers;
    this.ledger = options.ledger;
    this.onUsage = options.onUsage;
    this.newId = options.newId ?? randomUUID;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.logger = options.logger;
    this.abortGraceMs = options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
  }

  /**
   * The call's tokens are those of every attempt that consumed some (a broken stream before a retry
   * included), in the result or, when the call fails, in the error's `spent`: a run's usage then adds
   * up to its usage records.
   */
  async call(request: ModelCallRequest, signal?: AbortSignal): Promise<ModelCallResult> {
    const spent: Spent = { inputTokens: 0, outputTokens: 0, estimated: false };
    try {
      const result = await this.callModels(request, signal, spent);
      return { ...result, ...spent };
    } catch (error) {
      if (error instanceof ModelGatewayError && spent.inputTokens + spent.outputTokens > 0) {
        error.spent = { inputTokens: spent.inputTokens, outputTokens: spent.outputTokens };
      }
      throw error;
    }
  }

  private async callModels(
    request: ModelCallRequest,
    signal: AbortSignal | undefined,
    spent: Spent,
  ): Promise<ModelCallResult> {
    const startedAt = Date.now();
    const promptTokens = reservationPromptTokens(request);
    const failures: string[] = [];
    let unavailable = 0;

    for (const ref of request.models) {
      const label = `${ref.provider}/${ref.model}`;
      const provider = this.providers.get(ref.provider);
      if (!provider) {
        unavailable += 1;
        failures.push(
          `${label}: provider "${ref.provider}" is not available on this box (unknown, or its API key not delivered yet)`,
        );
        continue;
      }
      for (let attempt = 0; ; attempt++) {
        if (signal?.aborted) throw abortedError();
        const outcome = await this.attempt(ref, provider, request, promptTokens, signal, spent);
        if (outcome.kind === 'ok') return { ...outcome.result, durationMs: Date.now() - startedAt };
        if (outcome.kind === 'aborted' || signal?.aborted) throw abortedError();
        const reason = redact(outcome.reason, provider.apiKey);
        if (!outcome.retryable || attempt >= this.retry.maxRetries) {
          failures.push(`${label}: ${reason}`);
          break;
        }
        const wait = Math.min(
          this.retry.maxDelayMs,
          outcome.retryAfterMs ??
            backoffDelay(attempt, { baseMs: this.retry.baseDelayMs, capMs: this.retry.maxDelayMs }),
        );
        this.logger?.warn(
          `model ${label} for agent ${request.agentId}: ${reason}; retry ${attempt + 1} of ${this.retry.maxRetries} in ${wait} ms`,
        );
        await sleepOrThrow(wait, signal, abortedError);
      }
      if (ref !== request.models.at(-1)) {
        this.logger?.warn(
          `model ${label} for agent ${request.agentId} failed; trying the next fallback model`,
        );
      }
    }

    if (request.models.length === 0 || unavailable === request.models.length) {
      throw new ModelGatewayError(
        ModelGatewayErrorCode.PROVIDER_UNAVAILABLE,
        failures.length > 0 ? failures.join('; ') : 'the agent names no model',
      );
    }
    throw new ModelGatewayError(
      ModelGatewayErrorCode.MODEL_FAILED,
      `every model failed: ${failures.join('; ')}`.slice(0, 1_900),
    );
  }

  private async attempt(
    ref: ModelRef,
    provider: ResolvedProvider,
    request: ModelCallRequest,
    promptTokens: number,
    signal: AbortSignal | undefined,
    spent: Spent,
  ): Promise<Attempt> {
    const id = this.newId();
    const reservation = this.reserve(id, request, promptTokens);
    const grace = afterGrace(signal, this.abortGraceMs);
    let answer: Awaited<ReturnType<typeof streamAnswer>>;
    try {
      answer = await streamAnswer(ref, provider, request, reservation.tokens - promptTokens, grace.signal);
    } finally {
      grace.dispose();
    }
    const { text, toolCalls, toolInputText, finishReason, failure, aborted } = answer;
    const finished = finishReason !== undefined && failure === undefined && !aborted;
    if (!finished && !answer.responded) {
      this.ledger.release(reservation.reservationId);
      return aborted ? { kind: 'aborted' } : classify(failure, provider);
    }

    const { inputTokens, outputTokens, estimated } = await countTokens(request, answer, finished);
    this.ledger.settle(reservation.reservationId, inputTokens + outputTokens);
    spent.inputTokens += inputTokens;
    spent.outputTokens += outputTokens;
    spent.estimated ||= estimated;
    this.report({
      id,
      agentId: request.agentId,
      runId: request.runId,
      provider: ref.provider,
      model: ref.model,
      ts: Date.now(),
      inputTokens,
      outputTokens,
      estimated,
      outcome: finished ? 'ok' : aborted ? 'aborted' : 'error',
    });

    if (finished) {
      return {
        kind: 'ok',
        result: {
          provider: ref.provider,
          model: ref.model,
          text,
          toolCalls,
          finishReason: finishReason ?? 'unknown',
          inputTokens,
          outputTokens,
          estimated,
        },
      };
    }
    if (aborted) return { kind: 'aborted' };
    return {
      kind: 'failed',
      retryable: true,
      reason: `the response stream broke off after ${text.length + toolInputText.length} characters (${errorText(failure)})`,
    };
  }

  /** Reserves prompt + max output tokens against the run and day budgets, or refuses the call. */
  private reserve(
    id: string,
    request: ModelCallRequest,
    promptTokens: number,
  ): { reservationId: string; tokens: number } {
    const wanted = Math.max(1, request.maxOutputTokens);
    const reservation = this.ledger.reserve({
      id,
      agentId: request.agentId,
      runId: request.runId,
      tokens: promptTokens + wanted,
      minTokens: promptTokens + Math.min(wanted, MIN_OUTPUT_TOKENS),
      budget: request.budget,
    });
    if (reservation.ok) return reservation;
    const limit = reservation.budget === 'day' ? request.budget.tokensPerDay : request.budget.tokensPerRun;
    throw new ModelGatewayError(
      ModelGatewayErrorCode.BUDGET_EXHAUSTED,
      `the ${reservation.budget} budget of ${limit} tokens has ${reservation.remaining} left; ` +
        `this call needs about ${promptTokens} for its prompt plus at least ${Math.min(wanted, MIN_OUTPUT_TOKENS)} for the answer` +
        (reservation.resetsAt ? `; it reopens at ${new Date(reservation.resetsAt).toISOString()}` : ''),
      { budget: reservation.budget, ...(reservation.resetsAt ? { resetsAt: reservation.resetsAt } : {}) },
    );
  }

  private report(record: UsageRecord): void {
    try {
      this.onUsage(record);
    } catch (error) {
      this.logger?.warn(`usage record ${record.id} could not be reported: ${errorText(error)}`);
    }
  }
}

/** Tokens of the attempts of one call so far. */
interface Spent {
  inputTokens: number;
  outputTokens: number;
  estimated: boolean;
}

/** A signal that follows `signal` `graceMs` later (at once for 0), so a call under way may finish. */
function afterGrace(
  signal: AbortSignal | undefined,
  graceMs: number,
): { signal: AbortSignal | undefined; dispose: () => void } {
  if (!signal || graceMs <= 0) return { signal, dispose: () => undefined };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => controller.abort(signal.reason), graceMs);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

function redact(text: string, apiKey: string | undefined): string {
  return apiKey ? text.split(apiKey).join('[redacted]') : text;
}

function classify(error: unknown, provider: ResolvedProvider): Attempt {
  if (APICallError.isInstance(error) && error.statusCode !== undefined) {
    const status = error.statusCode;
    const message = error.message || `HTTP ${status}`;
    if (status === 401 || status === 403) {
      return {
        kind: 'failed',
        retryable: false,
        reason: `the provider refused the API key of provider "${provider.id}" (HTTP ${status}: ${message})`,
      };
    }
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const after = status === 429 || status === 503 ? retryAfterMs(error.responseHeaders) : undefined;
    return {
      kind: 'failed',
      retryable,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
      reason: `HTTP ${status}: ${message}`,
    };
  }
  return {
    kind: 'failed',
    retryable: true,
    reason: `no answer from ${provider.baseUrl} (${errorText(error)})`,
  };
}
