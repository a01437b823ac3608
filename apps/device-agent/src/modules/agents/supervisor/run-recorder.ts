import type { RunEvent, RunRecord, RunStatus } from '@agentbox/schemas';
import { errorText } from '../../../common/error-text.js';
import type { InstalledAgent, RunReporter, RunTrigger } from '../agents.contracts.js';
import type { NewRunEvent, RunStore } from '../store/run-store.js';

export const RECOVERED_REASON =
  'the device agent stopped while the run was in progress (a crash, a kill or a power cut)';

export const INPUT_MAX = 10_000;
const EVENT_DATA_MAX = 4_096;
const OUTPUT_MAX = 50_000;
export const ERROR_MAX = 2_000;

/** How a run ended. */
export interface RunEnding {
  status: RunStatus;
  error?: string;
  output?: string;
  /** A crash or a memory overrun: counts towards crash-looping and delays the agent's next run. */
  crash?: boolean;
}

export type RunEventInput = Omit<NewRunEvent, 'runId' | 'agentId' | 'ts'>;

export interface RunRecorderDeps {
  runs: RunStore;
  reporter: RunReporter;
  newId: () => string;
  clock: () => number;
  logger?: { warn(message: string): void };
}

/**
 * The bookkeeping of runs: every record and event goes to the store first (which gives an event its
 * index), then to the reporter. A failing reporter never fails a run; a failing store fails only what
 * cannot go on without it (admitting a run), and is logged otherwise.
 */
export class RunRecorder {
  constructor(private readonly deps: RunRecorderDeps) {}

  /**
   * At start-up, before any trigger: runs a previous process left queued or running are marked
   * interrupted and reported again, so nothing stays "running" after a crash or a reboot.
   */
  recoverAtStart(): RunRecord[] {
    const records = this.deps.runs.interruptStale(RECOVERED_REASON);
    for (const record of records) {
      this.report(record);
      this.event(record, { type: 'status', name: 'interrupted', error: RECOVERED_REASON });
    }
    return records;
  }

  /** A run admitted to start at once; throws when the store cannot take it. */
  createRunning(
    agent: InstalledAgent,
    trigger: RunTrigger,
    input: string | undefined,
    conversationId?: string,
  ): RunRecord {
    const record = this.newRecord(agent, trigger, input, 'running', conversationId);
    record.startedAt = record.createdAt;
    this.deps.runs.create(record);
    return record;
  }

  /** A run admitted to wait in the agent's queue; throws when the store cannot take it. */
  createQueued(
    agent: InstalledAgent,
    trigger: RunTrigger,
    input: string | undefined,
    conversationId?: string,
  ): RunRecord {
    const record = this.newRecord(agent, trigger, input, 'queued', conversationId);
    this.deps.runs.create(record);
    this.report(record);
    this.event(record, { type: 'status', name: 'queued' });
    return record;
  }

  /** A refused trigger, kept as a run so the owner sees why. */
  createRejected(
    agent: InstalledAgent,
    trigger: RunTrigger,
    input: string | undefined,
    reason: string,
    conversationId?: string,
  ): RunRecord {
    const record = this.newRecord(agent, trigger, input, 'rejected', conversationId);
    record.error = reason.slice(0, ERROR_MAX);
    record.endedAt = record.createdAt;
    try {
      this.deps.runs.create(record);
      this.event(record, { type: 'status', name: 'rejected', error: record.error });
    } catch (error) {
      this.deps.logger?.warn(`rejected run ${record.id} could not be stored: ${errorText(error)}`);
    }
    this.report(record);
    return record;
  }

  /** A queued run leaves the queue to start. */
  dequeued(record: RunRecord): void {
    record.status = 'running';
    record.startedAt = this.deps.clock();
    this.deps.runs.update(record);
  }

  /** Its process is up. */
  running(record: RunRecord): void {
    this.report(record);
    this.event(record, { type: 'status', name: 'running' });
  }

  /** A queued run that will never start. */
  dropped(queued: RunRecord, status: RunStatus, reason: string): void {
    const record: RunRecord = {
      ...queued,
      status,
      error: reason.slice(0, ERROR_MAX),
      endedAt: this.deps.clock(),
    };
    this.event(record, { type: 'status', name: status, error: record.error });
    this.deps.runs.update(record);
    this.report(record);
  }

  /** The final state of a run that ran. */
  finished(record: RunRecord, ending: RunEnding, steps: number): void {
    record.status = ending.status;
    record.endedAt = Math.max(this.deps.clock(), record.startedAt ?? record.createdAt);
    record.steps = steps;
    if (ending.output !== undefined) record.output = ending.output.slice(0, OUTPUT_MAX);
    if (ending.error !== undefined) record.error = ending.error.slice(0, ERROR_MAX);
    this.event(record, {
      type: 'status',
      name: ending.status,
      ...(record.error !== undefined ? { error: record.error } : {}),
    });
    try {
      this.deps.runs.update(record);
    } catch (error) {
      this.deps.logger?.warn(`run ${record.id} could not be stored: ${errorText(error)}`);
    }
    this.report(record);
  }

  /**
   * Tokens a model call consumed after its run had ended (the answer arrived within the gateway's
   * abort grace): the final record is stored and reported again with them, which the cloud takes, as
   * a final status may replace a final status.
   */
  usageAfterEnd(record: RunRecord): void {
    try {
      this.deps.runs.update(record);
    } catch (error) {
      this.deps.logger?.warn(`run ${record.id} could not be stored: ${errorText(error)}`);
    }
    this.report(record);
  }

  /** Stores the event (which gives it its index), then reports it. */
  event(record: RunRecord, event: RunEventInput): void {
    let stored: RunEvent;
    try {
      stored = this.deps.runs.appendEvent({
        runId: record.id,
        agentId: record.agentId,
        ts: this.deps.clock(),
        ...event,
      });
    } catch (error) {
      this.deps.logger?.warn(`an event of run ${record.id} could not be stored: ${errorText(error)}`);
      return;
    }
    this.guarded(() => this.deps.reporter.event(stored));
  }

  private report(record: RunRecord): void {
    this.guarded(() => this.deps.reporter.run({ ...record }));
  }

  private guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.deps.logger?.warn(`reporting failed: ${errorText(error)}`);
    }
  }

  private newRecord(
    agent: InstalledAgent,
    trigger: RunTrigger,
    input: string | undefined,
    status: RunStatus,
    conversationId: string | undefined,
  ): RunRecord {
    return {
      id: this.deps.newId(),
      agentId: agent.id,
      agentVersion: agent.version,
      trigger,
      ...(conversationId !== undefined ? { conversationId } : {}),
      status,
      ...(input !== undefined ? { input: input.slice(0, INPUT_MAX) } : {}),
      createdAt: this.deps.clock(),
      steps: 0,
      usage: { inputTokens: 0, outputTokens: 0 },
    };
  }
}

/** Event data is kept to a few KiB: longer text is cut, a larger structure is kept as a cut JSON preview. */
export function truncateData(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    return value.length > EVENT_DATA_MAX ? `${value.slice(0, EVENT_DATA_MAX)}…` : value;
  }
  const json = JSON.stringify(value);
  if (json === undefined) return undefined;
  return json.length > EVENT_DATA_MAX ? { truncated: true, preview: json.slice(0, EVENT_DATA_MAX) } : value;
}
