import {
  RunEventSchema,
  RunRecordSchema,
  SCHEMA_VERSION,
  UsageRecordSchema,
  type RunEvent,
  type RunRecord,
  type UsageRecord,
} from '@agentbox/schemas';
import type { RunReporter } from '../agents.contracts.js';
import type { JournalKind, ReportJournal } from './report-journal.js';

/** Where messages go: the outbox spool (OutboxService.append). */
export interface SpoolSink {
  append(channel: 'runs' | 'run-events' | 'usage', message: object): Promise<unknown>;
}

export interface ReporterLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface SpoolRunReporterOptions {
  /** How long a burst is gathered before it is written (one spool record, one fsync, per channel). */
  batchWindowMs?: number;
  /** Keeps each message well under the 256 KiB payload cap. */
  maxMessageBytes?: number;
  nextSeq: () => number;
  clock?: () => number;
  /** Remembers in agents.db what is not yet in the spool, so a kill -9 loses no report. */
  journal?: ReportJournal;
}

/** The wire schemas' caps on items per message. */
const MAX_ITEMS = { runs: 100, 'run-events': 200, usage: 500 } as const;
type Channel = keyof typeof MAX_ITEMS;

/** Items gathered for one channel until they are written as one message. */
class Pending<T> {
  items: T[] = [];
  bytes = 0;

  constructor(
    readonly channel: 'run-events' | 'usage',
    /** The message field that carries the items. */
    readonly field: 'events' | 'records',
    /** What the journal marks the items as, and under which id, until they are in the spool. */
    readonly kind: JournalKind,
    readonly journalId: (item: T) => string,
  ) {}
}

/**
 * Sends what runs produce to the cloud through the spool: `up/runs`, `up/run-events`, `up/usage`.
 * A burst (a run's first events, its record and usage) is gathered for a few milliseconds and written
 * as one message per channel, runs first, so the cloud knows a run before its steps. Records keep
 * their ids, so a replay after a restart or an outage is recognisably the same record.
 */
export class SpoolRunReporter implements RunReporter {
  private readonly batchWindowMs: number;
  private readonly maxMessageBytes: number;
  private readonly nextSeq: () => number;
  private readonly clock: () => number;
  /** Latest record per run id: the latest status wins anyway, so a superseded one need not travel. */
  private runs = new Map<string, RunRecord>();
  private runBytes = 0;
  private events = new Pending<RunEvent>('run-events', 'events', 'events', (event) => event.runId);
  private usages = new Pending<UsageRecord>('usage', 'records', 'usage', (record) => record.id);
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly journal: ReportJournal | undefined;
  /** After a failed write, entries stay in the journal (sent again at the next start). */
  private writeFailed = false;
  /** Items that failed validation and were left out. */
  invalid = 0;

  constructor(
    private readonly sink: SpoolSink,
    private readonly logger: ReporterLogger,
    options: SpoolRunReporterOptions,
  ) {
    this.batchWindowMs = options.batchWindowMs ?? 50;
    this.maxMessageBytes = options.maxMessageBytes ?? 200_000;
    this.nextSeq = options.nextSeq;
    this.clock = options.clock ?? Date.now;
    this.journal = options.journal;
  }

  run(record: RunRecord): void {
    const valid = this.validate(RunRecordSchema, record, 'run record');
    if (!valid) return;
    const size = jsonBytes(valid);
    if (
      !this.runs.has(valid.id) &&
      (this.runs.size >= MAX_ITEMS.runs || this.runBytes + size > this.maxMessageBytes)
    )
      this.flushRuns();
    this.mark('run', valid.id);
    this.runs.set(valid.id, valid);
    this.runBytes += size;
    this.schedule();
  }

  event(event: RunEvent): void {
    const valid = this.validate(RunEventSchema, event, 'run event');
    if (!valid) return;
    this.mark('events', valid.runId);
    this.add(this.events, valid);
  }

  usage(record: UsageRecord): void {
    const valid = this.validate(UsageRecordSchema, record, 'usage record');
    if (!valid) return;
    this.mark('usage', valid.id, valid);
    this.add(this.usages, valid);
  }

  /** Writes everything gathered so far; resolves once it is in the spool. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushRuns();
    this.flushPending(this.events);
    this.flushPending(this.usages);
    return this.writing;
  }

  private add<T>(pending: Pending<T>, item: T): void {
    const size = jsonBytes(item);
    if (pending.items.length >= MAX_ITEMS[pending.channel] || pending.bytes + size > this.maxMessageBytes) {
      // The runs gathered so far go first, so no step overtakes its run.
      this.flushRuns();
      this.flushPending(pending);
    }
    pending.items.push(item);
    pending.bytes += size;
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.batchWindowMs);
  }

  private flushRuns(): void {
    if (this.runs.size === 0) return;
    const runs = [...this.runs.values()];
    this.runs = new Map();
    this.runBytes = 0;
    this.write(
      'runs',
      { runs },
      'run',
      runs.map((run) => run.id),
    );
  }

  private flushPending<T>(pending: Pending<T>): void {
    if (pending.items.length === 0) return;
    const items = pending.items.splice(0);
    pending.bytes = 0;
    this.write(pending.channel, { [pending.field]: items }, pending.kind, items.map(pending.journalId));
  }

  private mark(kind: JournalKind, id: string, payload?: unknown): void {
    try {
      this.journal?.mark(kind, id, payload);
    } catch (error) {
      this.logger.warn('could not journal a report', { kind, err: (error as Error).message });
    }
  }

  /** Messages get their seq in the order they are written, and are appended one after another. */
  private write(channel: Channel, body: object, kind: JournalKind, ids: string[]): void {
    const message = { v: SCHEMA_VERSION, seq: this.nextSeq(), ts: this.clock(), ...body };
    // Every mark of this kind up to now is in this message or an earlier one.
    const gen = this.journal?.currentGen ?? 0;
    const entries = [...new Set(ids)].map((id) => ({ kind, id }));
    this.writing = this.writing
      .then(() => this.sink.append(channel, message))
      .then(
        () => {
          if (this.writeFailed) return;
          try {
            this.journal?.clear(entries, gen);
          } catch (error) {
            this.logger.warn('could not clear the report journal', { err: (error as Error).message });
          }
        },
        (error: unknown) => {
          this.writeFailed = true;
          this.logger.warn('could not spool a report', { channel, err: (error as Error).message });
        },
      );
  }

  private validate<T>(
    schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: Error } },
    value: unknown,
    what: string,
  ): T | undefined {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    this.invalid += 1;
    // One bad record must not hold up a whole batch: it is logged and left out.
    this.logger.warn(`invalid ${what} not reported`, { err: parsed.error.message.slice(0, 500) });
    return undefined;
  }
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}
