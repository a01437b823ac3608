import { retry } from '@agentbox/retry';

/** Tuning of the ingest batch writers; the defaults suit one SQLite file as well as PostgreSQL. */
export interface BatchWriterOptions {
  /** Flush at the latest this long after the first buffered item. */
  flushIntervalMs: number;
  /** Flush as soon as this many items are buffered. */
  maxBatchSamples: number;
  /** Above this many buffered items (the store is down or too slow), new ones are dropped and counted. */
  maxBufferedSamples: number;
  /** Attempts per batch before its items are dropped and counted. */
  attempts: number;
}

export const DEFAULT_BATCH_WRITER_OPTIONS: BatchWriterOptions = {
  flushIntervalMs: 200,
  maxBatchSamples: 1_000,
  maxBufferedSamples: 100_000,
  attempts: 3,
};
export const BATCH_WRITER_OPTIONS = Symbol('BATCH_WRITER_OPTIONS');

/** Waits between attempts: 200 ms after the first failure, then 400 ms, ... (100 ms × 2^attempt). */
const RETRY_BACKOFF = { baseMs: 100, capMs: Number.POSITIVE_INFINITY };

/** What a batch writer does with its batches of type B; `write` returns W for `afterCommit`. */
export interface BatchSink<B, W> {
  newBatch(): B;
  sizeOf(batch: B): number;
  /** Stores the batch in ONE transaction; retried on failure. */
  write(batch: B): Promise<W>;
  /** After the commit: metrics, live events, other writes that may fail on their own. */
  afterCommit(batch: B, written: W): Promise<void>;
  /** `count` new items were refused because `held` are buffered already. */
  refused(count: number, held: number): void;
  /** The batch failed its last attempt and is dropped. */
  lost(batch: B, error: Error): void;
}

/**
 * Collects items from every box and hands them to the sink in batches: at the latest `flushIntervalMs`
 * after the first item, or at once when `maxBatchSamples` are buffered; one batch at a time (transactions
 * never overlap on SQLite's single writer), each retried with a growing pause, then dropped.
 */
export class BatchBuffer<B, W> {
  private buffer: B;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Batches committed so far (tests assert on batching with it). */
  batches = 0;

  constructor(
    private readonly sink: BatchSink<B, W>,
    private readonly options: BatchWriterOptions,
  ) {
    this.buffer = sink.newBatch();
  }

  /** Adds `count` items through `push`, unless the buffer would exceed its cap (then they are refused). */
  add(count: number, push: (batch: B) => void): void {
    const held = this.sink.sizeOf(this.buffer);
    if (held + count > this.options.maxBufferedSamples) {
      this.sink.refused(count, held);
      return;
    }
    push(this.buffer);
    if (this.sink.sizeOf(this.buffer) >= this.options.maxBatchSamples) {
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    }
  }

  /** Writes whatever is buffered; resolves once it is committed (or dropped after the last attempt). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (this.sink.sizeOf(batch) === 0) return this.flushing;
    this.buffer = this.sink.newBatch();
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: B): Promise<void> {
    let written: W;
    try {
      written = await retry(() => this.sink.write(batch), {
        attempts: this.options.attempts,
        backoff: RETRY_BACKOFF,
        firstExponent: 1,
      });
    } catch (error) {
      this.sink.lost(batch, error as Error);
      return;
    }
    this.batches += 1;
    await this.sink.afterCommit(batch, written);
  }
}
