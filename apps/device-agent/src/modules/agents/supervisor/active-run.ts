import type { AgentDefinition, RunRecord } from '@agentbox/schemas';
import { errorText } from '../../../common/error-text.js';
import {
  ModelGatewayError,
  ModelGatewayErrorCode,
  type InstalledAgent,
  type ModelCallResult,
  type ModelGatewayPort,
  type ToolCall,
  type ToolSpec,
} from '../agents.contracts.js';
import type { ToolContext, ToolOutcome } from '../tools/tool-host.js';
import { toolIdOf } from '../tools/tool-host.js';
import { NO_HISTORY, type ConversationHistory } from '../store/conversation-store.js';
import { WorkerStartSchema, WorkerToParentSchema, type WorkerToParent } from '../worker/ipc.js';
import { instructionsWithSummary, summaryRequest } from './conversation-summary.js';
import { RunProcess, type RunProcessOptions } from './run-process.js';
import { ERROR_MAX, truncateData, type RunEnding, type RunRecorder } from './run-recorder.js';

/** What the supervisor needs of the tool host (tools/tool-host.ts). */
export interface SupervisorTools {
  specsFor(definition: AgentDefinition): ToolSpec[];
  execute(context: ToolContext, call: ToolCall): Promise<ToolOutcome>;
}

export interface ActiveRunDeps {
  gateway: ModelGatewayPort;
  tools: SupervisorTools;
  recorder: RunRecorder;
  clock: () => number;
  process: Pick<RunProcessOptions, 'launch' | 'memoryPollMs' | 'logger'>;
  /** Ends the run (once): the supervisor records it and moves the agent on. */
  end: (run: ActiveRun, ending: RunEnding) => void;
  /** A model call found the agent's day budget used up. */
  dayBudgetExhausted: (resetsAt: number | undefined) => void;
  /** Tokens a model call of this run used. */
  tokensUsed: (tokens: number) => void;
  /** The run summarized its conversation's dropped turns through `throughTurnId`. */
  summarized?: (throughTurnId: number, summary: string) => void;
}

/**
 * One run in progress: its process, and the worker's side of the conversation. The parent answers the
 * worker's model calls through the gateway (metering, budgets) and its tool calls through the tool
 * host (grants), one request at a time, and records each as a run event.
 */
export class ActiveRun {
  readonly process: RunProcess;
  readonly abort = new AbortController();
  private busy = false;
  private modelCalls = 0;
  private modelCallInFlight: Promise<void> = Promise.resolve();
  /** What the conversation came to before the turns the run gets; renewed by the run's first model call. */
  private summary: string | undefined;
  private summaryDue: boolean;
  finished = false;

  constructor(
    readonly record: RunRecord,
    readonly agent: InstalledAgent,
    readonly input: string,
    private readonly deps: ActiveRunDeps,
    /** The earlier turns of the run's conversation, and what stands for the dropped ones. */
    private readonly history: ConversationHistory = NO_HISTORY,
  ) {
    this.summary = history.summary;
    this.summaryDue = history.unsummarized.length > 0 && history.droppedThrough !== undefined;
    const { memoryMb, runTimeoutSec } = agent.definition.limits;
    this.process = new RunProcess(record.id, {
      ...deps.process,
      limits: { memoryMb, runTimeoutSec },
      onMessage: (raw) => this.onWorkerMessage(raw),
      onEnd: (ending) => this.end(ending),
    });
  }

  /** Model calls so far: the run's steps. */
  get steps(): number {
    return this.modelCalls;
  }

  /** Resolves once no model call is under way (one may outlive the run by the gateway's abort grace). */
  get modelCallsSettled(): Promise<void> {
    return this.modelCallInFlight;
  }

  get startedAt(): number {
    return this.record.startedAt ?? this.record.createdAt;
  }

  private end(ending: RunEnding): void {
    this.deps.end(this, ending);
  }

  private async onWorkerMessage(raw: unknown): Promise<void> {
    if (this.finished) return;
    const parsed = WorkerToParentSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.end({
        status: 'failed',
        error: `the run process sent a malformed message (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`,
      });
      return;
    }
    const message: WorkerToParent = parsed.data;
    if ((message.type === 'model' || message.type === 'tool') && this.busy) {
      this.end({ status: 'failed', error: 'the run process sent a request while another was outstanding' });
      return;
    }
    switch (message.type) {
      case 'ready': {
        const start = WorkerStartSchema.safeParse({
          type: 'start',
          runId: this.record.id,
          input: this.input,
          history: this.history.turns,
          maxSteps: this.agent.definition.limits.maxSteps,
        });
        if (!start.success) {
          this.end({ status: 'failed', error: 'the conversation history on this box is unreadable' });
          return;
        }
        this.process.send(start.data);
        return;
      }
      case 'model':
        this.modelCallInFlight = this.modelCall(message);
        return this.modelCallInFlight;
      case 'tool':
        return this.toolCall(message);
      case 'done':
        this.process.lastMessageSent();
        this.deps.recorder.event(this.record, { type: 'text', data: truncateData(message.output) });
        this.end({ status: 'succeeded', output: message.output });
        return;
      case 'failed':
        this.process.lastMessageSent();
        this.end({ status: 'failed', error: message.error });
        return;
    }
  }

  private async modelCall(message: Extract<WorkerToParent, { type: 'model' }>): Promise<void> {
    const definition = this.agent.definition;
    if (this.modelCalls >= definition.limits.maxSteps) {
      this.end({
        status: 'failed',
        error: `the run used all of its ${definition.limits.maxSteps} steps without a final answer`,
      });
      return;
    }
    this.modelCalls++;
    this.busy = true;
    if (this.summaryDue) {
      this.summaryDue = false;
      if (!(await this.summarize())) return;
    }
    const startedAt = this.deps.clock();
    let result: ModelCallResult;
    try {
      result = await this.deps.gateway.call(
        {
          agentId: this.agent.id,
          runId: this.record.id,
          models: [definition.model, ...definition.fallbacks],
          system: instructionsWithSummary(definition.instructions, this.summary),
          messages: message.messages,
          tools: this.deps.tools.specsFor(definition),
          maxOutputTokens: definition.limits.maxOutputTokens,
          budget: definition.budget,
        },
        this.abort.signal,
      );
    } catch (error) {
      const spent = error instanceof ModelGatewayError ? error.spent : undefined;
      if (spent) this.addUsage(spent);
      if (!this.finished) this.modelCallFailed(error, startedAt, spent);
      else if (spent) this.deps.recorder.usageAfterEnd(this.record);
      return;
    }
    this.busy = false;
    this.addUsage(result);
    if (this.finished) {
      // Interrupted while the answer was on its way (the gateway's abort grace): billed, so counted.
      this.deps.recorder.usageAfterEnd(this.record);
      return;
    }
    this.record.steps = this.modelCalls;
    this.deps.recorder.event(this.record, {
      type: 'model',
      name: result.model,
      inputTokens: result.inputTokens,
      outputTokens: result.outputTokens,
      durationMs: Math.max(0, Math.round(result.durationMs)),
      data: {
        provider: result.provider,
        finishReason: result.finishReason,
        estimated: result.estimated,
        ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls.map((call) => call.name) } : {}),
      },
    });
    this.process.send({
      type: 'model-result',
      requestId: message.requestId,
      text: result.text,
      toolCalls: result.toolCalls,
    });
  }

  /**
   * Folds the turns dropped from the conversation's window into its summary, before the run's first
   * model call (docs/protocol.md section 11). Metered and budgeted like the run's own calls; a failure
   * other than an exhausted budget leaves the previous summary in place and the run goes on.
   * Resolves false when the run has ended.
   */
  private async summarize(): Promise<boolean> {
    const { unsummarized, droppedThrough } = this.history;
    const startedAt = this.deps.clock();
    let result: ModelCallResult;
    try {
      result = await this.deps.gateway.call(
        summaryRequest(this.agent, this.record.id, this.summary, unsummarized),
        this.abort.signal,
      );
    } catch (error) {
      const spent = error instanceof ModelGatewayError ? error.spent : undefined;
      if (spent) this.addUsage(spent);
      if (this.finished) {
        if (spent) this.deps.recorder.usageAfterEnd(this.record);
        return false;
      }
      if (error instanceof ModelGatewayError && error.code === ModelGatewayErrorCode.BUDGET_EXHAUSTED) {
        this.modelCallFailed(error, startedAt, spent);
        return false;
      }
      this.deps.recorder.event(this.record, {
        type: 'model',
        name: this.agent.definition.model.model,
        ...spent,
        durationMs: Math.max(0, this.deps.clock() - startedAt),
        error: `summarizing the conversation failed: ${errorText(error)}`.slice(0, ERROR_MAX),
        data: { purpose: 'summary' },
      });
      return true;
    }
    this.addUsage(result);
    if (this.finished) {
      this.deps.recorder.usageAfterEnd(this.record);
      return false;
    }
    this.deps.recorder.event(this.record, {
      type: 'model',
      name: result.model,
      inputTokens: result.inputTokens,
      outputTokens: result.outputTokens,
      durationMs: Math.max(0, Math.round(result.durationMs)),
      data: { purpose: 'summary', provider: result.provider, estimated: result.estimated },
    });
    const summary = result.text.trim();
    if (summary && droppedThrough !== undefined) {
      this.summary = summary;
      this.deps.summarized?.(droppedThrough, summary);
    }
    return true;
  }

  private addUsage(tokens: { inputTokens: number; outputTokens: number }): void {
    this.record.usage = {
      inputTokens: this.record.usage.inputTokens + tokens.inputTokens,
      outputTokens: this.record.usage.outputTokens + tokens.outputTokens,
    };
    this.deps.tokensUsed(tokens.inputTokens + tokens.outputTokens);
  }

  /** A model call that failed ends the run: budget-exhausted (blocking the day, when it was the day budget) or failed. */
  private modelCallFailed(
    error: unknown,
    startedAt: number,
    spent: { inputTokens: number; outputTokens: number } | undefined,
  ): void {
    this.deps.recorder.event(this.record, {
      type: 'model',
      name: this.agent.definition.model.model,
      ...spent,
      durationMs: Math.max(0, this.deps.clock() - startedAt),
      error: errorText(error).slice(0, ERROR_MAX),
    });
    if (error instanceof ModelGatewayError && error.code === ModelGatewayErrorCode.BUDGET_EXHAUSTED) {
      if (error.detail?.budget === 'day') this.deps.dayBudgetExhausted(error.detail.resetsAt);
      this.end({ status: 'budget-exhausted', error: error.message });
    } else {
      this.end({ status: 'failed', error: errorText(error) });
    }
  }

  private async toolCall(message: Extract<WorkerToParent, { type: 'tool' }>): Promise<void> {
    const name = toolIdOf(message.call.name) ?? message.call.name;
    this.deps.recorder.event(this.record, {
      type: 'tool-call',
      name,
      data: truncateData(message.call.input),
    });
    this.busy = true;
    const startedAt = this.deps.clock();
    let outcome: ToolOutcome;
    try {
      outcome = await this.deps.tools.execute({ agent: this.agent, runId: this.record.id }, message.call);
    } catch (error) {
      outcome = { ok: false, error: errorText(error) };
    }
    this.busy = false;
    if (this.finished) return;
    this.deps.recorder.event(this.record, {
      type: 'tool-result',
      name,
      durationMs: Math.max(0, this.deps.clock() - startedAt),
      ...(outcome.ok ? { data: truncateData(outcome.output) } : { error: outcome.error.slice(0, ERROR_MAX) }),
    });
    this.process.send({ type: 'tool-result', requestId: message.requestId, outcome });
  }
}
