import { backoffDelay, sleep } from '@agentbox/retry';
import type { Settle } from '../../common/settlement.js';

/** Tuning of the ingest batch writers; the defaults suit one SQLite file as well as PostgreSQL. */
export interface BatchWriterOptions {
  /** Flush at the latest this long after the first buffered item. */
  flushIntervalMs: number;
  /** Flush as soon as this many items are buffered. */
  maxBatchSamples: number;
  /** Above this many buffered items (the store is down or too slow), new ones are refused as busy. */
  maxBufferedSamples: number;
  /** Attempts per batch, while the store answers, before its items are dropped and counted. */
  attempts: number;
  /**
   * Batches written at the same time (several transactions). 1 keeps one writer (SQLite); above 1 a
   * batch of at least `eagerBatchSamples` items is also written at once while a writer is free, so
   * Node.js decodes the next messages while the database commits the previous ones.
   */
  concurrentBatches: number;
  /** With several writers: write a batch at once (not after `flushIntervalMs`) from this many items on. */
  eagerBatchSamples: number;
}

export const DEFAULT_BATCH_WRITER_OPTIONS: BatchWriterOptions = {
  flushIntervalMs: 200,
  maxBatchSamples: 1_000,
  maxBufferedSamples: 100_000,
  attempts: 3,
  concurrentBatches: 1,
  eagerBatchSamples: 100,
};
export const BATCH_WRITER_OPTIONS = Symbol('BATCH_WRITER_OPTIONS');

/** Waits between attempts: 200 ms after the first failure, then 400 ms, ..., at most 5 s. */
const RETRY_BACKOFF = { baseMs: 100, capMs: 5_000 };

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
  /** The batch failed its last attempt although the store takes writes, and is dropped. */
  lost(batch: B, error: Error): void;
  /** Whether the store takes writes at all: while it does not, a failing batch is kept and tried again. */
  storeWritable(): Promise<boolean>;
  /** Whether an error is the store's (away, full, read-only) rather than the batch's: such a batch is kept. */
  storeFault(error: unknown): boolean;
}

interface Pending<B> {
  items: B;
  /** Called once the batch is committed or dropped, in the order the messages came. */
  settles: Settle[];
}

/** What became of a batch: committed, dropped as refused, or left unacknowledged at shutdown. */
type Outcome = 'stored' | 'refused' | 'kept';

/**
 * Collects items from every box and hands them to the sink in batches: at the latest `flushIntervalMs`
 * after the first item, or at once when `maxBatchSamples` are buffered; up to `concurrentBatches` at a
 * time (1 on SQLite: transactions never overlap on its single writer). A batch is tried again with a
 * growing pause for as long as the store does not take writes or its error is the store's (a full disk),
 * so nothing a box was told is stored is ever dropped; only a batch that a writable store keeps refusing
 * is dropped (and counted). Each message's `settle` is called after its batch is committed, which is when
 * the broker may acknowledge it; batches are settled in the order they were cut even when a later one
 * commits first, so a box's acknowledgements keep the order of its messages (docs/protocol.md,
 * "Acknowledged means stored").
 */
export class BatchBuffer<B, W> {
  private buffer: Pending<B>;
  private timer: NodeJS.Timeout | undefined;
  private eager = false;
  /** Settlement of every batch cut so far, in order. */
  private settled: Promise<void> = Promise.resolve();
  private writing = 0;
  /** Batches cut and waiting for a free writer, oldest first. */
  private readonly queue: Array<() => void> = [];
  private closing = false;
  /** Items taken and not yet committed or dropped: the buffer plus the batches waiting to be written. */
  private held = 0;
  private committed = 0;

  constructor(
    private readonly sink: BatchSink<B, W>,
    private readonly options: BatchWriterOptions,
  ) {
    this.buffer = this.newPending();
  }

  /**
   * Adds `count` items through `push`, unless the buffer would exceed its cap: then they are refused and
   * `settle` hears `busy` at once.
   */
  add(count: number, push: (batch: B) => void, settle?: Settle): void {
    // Batches kept for a database that is away count too: that is when the cap matters.
    if (this.held + count > this.options.maxBufferedSamples) {
      this.sink.refused(count, this.held);
      settle?.('busy');
      return;
    }
    this.held += count;
    push(this.buffer.items);
    if (settle) this.buffer.settles.push(settle);
    const size = this.sink.sizeOf(this.buffer.items);
    if (size >= this.options.maxBatchSamples) {
      void this.flush();
    } else if (this.eagerNow(size)) {
      // Messages that arrive in the same turn of the event loop go into the same batch.
      this.eager = true;
      setImmediate(() => {
        this.eager = false;
        if (this.eagerNow(this.sink.sizeOf(this.buffer.items))) void this.flush();
      });
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    }
  }

  /** Writes whatever is buffered; resolves once it is committed (or dropped as refused). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (this.sink.sizeOf(batch.items) === 0) {
      // Messages without items (an empty list) are settled as soon as what came before them is.
      const settles = batch.settles.splice(0);
      this.settled = this.settled.then(() => settles.forEach((settle) => settle('stored')));
      return this.settled;
    }
    this.buffer = this.newPending();
    let committed!: (outcome: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (committed = resolve));
    const done = this.write(batch, committed);
    const previous = this.settled;
    this.settled = Promise.all([outcome, previous]).then(([result]) => {
      if (result !== 'kept') batch.settles.forEach((settle) => settle(result));
    });
    return Promise.all([this.settled, done]).then(() => undefined);
  }

  /**
   * For shutdown: what is buffered is tried `attempts` times even while the store is away, then left
   * unacknowledged (the boxes still hold it and send it again to the next process).
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.flush();
  }

  /** Batches committed so far (tests assert on batching with it). */
  get batches(): number {
    return this.committed;
  }

  private eagerNow(size: number): boolean {
    return (
      this.options.concurrentBatches > 1 &&
      !this.eager &&
      size >= this.options.eagerBatchSamples &&
      this.writing < this.options.concurrentBatches
    );
  }

  private newPending(): Pending<B> {
    return { items: this.sink.newBatch(), settles: [] };
  }

  /** Writes the batch when a writer is free; `committed` hears its outcome before what follows the commit. */
  private async write(batch: Pending<B>, committed: (outcome: Outcome) => void): Promise<void> {
    if (this.writing >= this.options.concurrentBatches) {
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    this.writing += 1;
    try {
      await this.commit(batch, committed);
    } finally {
      this.held -= this.sink.sizeOf(batch.items);
      this.writing -= 1;
      const next = this.queue.shift();
      if (next) next();
      else if (this.eagerNow(this.sink.sizeOf(this.buffer.items))) void this.flush();
    }
  }

  private async commit(batch: Pending<B>, committed: (outcome: Outcome) => void): Promise<void> {
    let written: W | undefined;
    let failures = 0;
    for (;;) {
      try {
        written = await this.sink.write(batch.items);
        break;
      } catch (error) {
        failures += 1;
        if (failures >= this.options.attempts) {
          if (this.closing) return committed('kept');
          if (!this.sink.storeFault(error) && (await this.sink.storeWritable())) {
            this.sink.lost(batch.items, error as Error);
            return committed('refused');
          }
        }
        await sleep(backoffDelay(failures, RETRY_BACKOFF));
      }
    }
    this.committed += 1;
    // The acknowledgements need not wait for what follows the commit (metrics, live events); the writer
    // stays taken until it is done, as it may write too (SQLite has one writer).
    committed('stored');
    await this.sink.afterCommit(batch.items, written);
  }
}
