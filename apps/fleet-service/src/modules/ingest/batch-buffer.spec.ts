import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchBuffer, DEFAULT_BATCH_WRITER_OPTIONS, type BatchSink } from './batch-buffer.js';

/**
 * A sink over arrays of numbers that fails its first `failures` writes and records what happens; the
 * store takes the probe's write while `writable` says so; its failures are the store's own (a full disk)
 * when `fault` is given.
 */
function recordingSink(failures = 0, writable = () => true, fault?: string) {
  const log: string[] = [];
  let failing = failures;
  const sink: BatchSink<number[], number> = {
    newBatch: () => [],
    sizeOf: (batch) => batch.length,
    write: (batch) => {
      log.push(`write ${batch.join(',')} at ${Date.now()}`);
      if (failing > 0) {
        failing -= 1;
        return Promise.reject(
          Object.assign(new Error(fault ?? 'store down'), { fault: fault !== undefined }),
        );
      }
      return Promise.resolve(batch.length);
    },
    afterCommit: (batch, written) => {
      log.push(`committed ${written}`);
      return Promise.resolve();
    },
    refused: (count, held) => log.push(`refused ${count} holding ${held}`),
    lost: (batch, error) => log.push(`lost ${batch.length}: ${error.message}`),
    storeWritable: () => Promise.resolve(writable()),
    storeFault: (error) => (error as { fault?: boolean }).fault === true,
  };
  return { sink, log };
}

describe('BatchBuffer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes the flush interval after the first item, all buffered items in one batch', async () => {
    const { sink, log } = recordingSink();
    const sut = new BatchBuffer(sink, { ...DEFAULT_BATCH_WRITER_OPTIONS, flushIntervalMs: 200 });
    sut.add(1, (batch) => batch.push(1));
    await vi.advanceTimersByTimeAsync(150);
    sut.add(1, (batch) => batch.push(2));
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(log).toEqual(['write 1,2 at 200', 'committed 2']);
    expect(sut.batches).toBe(1);
  });

  it('flushes at once at the batch size and refuses items beyond the buffer cap', async () => {
    const { sink, log } = recordingSink();
    const sut = new BatchBuffer(sink, {
      ...DEFAULT_BATCH_WRITER_OPTIONS,
      maxBatchSamples: 3,
      maxBufferedSamples: 2,
    });
    sut.add(2, (batch) => batch.push(1, 2));
    sut.add(1, (batch) => batch.push(3));
    expect(log).toEqual(['refused 1 holding 2']);
    const { sink: sink2, log: log2 } = recordingSink();
    const eager = new BatchBuffer(sink2, { ...DEFAULT_BATCH_WRITER_OPTIONS, maxBatchSamples: 3 });
    eager.add(3, (batch) => batch.push(1, 2, 3));
    await vi.advanceTimersByTimeAsync(0);
    expect(log2).toEqual(['write 1,2,3 at 0', 'committed 3']);
  });

  it('retries after 200 ms, then 400 ms, then drops a batch that the writable store keeps refusing', async () => {
    const { sink, log } = recordingSink(3);
    const settled: string[] = [];
    const sut = new BatchBuffer(sink, { ...DEFAULT_BATCH_WRITER_OPTIONS, attempts: 3 });
    sut.add(
      1,
      (batch) => batch.push(7),
      (outcome) => settled.push(outcome),
    );
    const flushed = sut.flush();
    await vi.advanceTimersByTimeAsync(1_000);
    await flushed;
    expect(log).toEqual(['write 7 at 0', 'write 7 at 200', 'write 7 at 600', 'lost 1: store down']);
    expect(settled).toEqual(['refused']);
    expect(sut.batches).toBe(0);
  });

  it('keeps retrying, at most 5 s apart, while the store does not answer, and commits once it does', async () => {
    let up = false;
    const { sink, log } = recordingSink(8, () => up);
    const settled: string[] = [];
    const sut = new BatchBuffer(sink, { ...DEFAULT_BATCH_WRITER_OPTIONS, attempts: 3 });
    sut.add(
      1,
      (batch) => batch.push(7),
      (outcome) => settled.push(outcome),
    );
    const flushed = sut.flush();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(settled).toEqual([]);
    up = true;
    await vi.advanceTimersByTimeAsync(10_000);
    await flushed;
    expect(
      log.filter((line) => line.startsWith('write')).map((line) => Number(line.split(' at ')[1])),
    ).toEqual([0, 200, 600, 1_400, 3_000, 6_200, 11_200, 16_200, 21_200]);
    expect(log.at(-1)).toBe('committed 1');
    expect(settled).toEqual(['stored']);
  });

  it('keeps a batch the store fails for its own reason (a full disk) although its probe write passes', async () => {
    const { sink, log } = recordingSink(5, () => true, 'database or disk is full');
    const settled: string[] = [];
    const sut = new BatchBuffer(sink, { ...DEFAULT_BATCH_WRITER_OPTIONS, attempts: 3 });
    sut.add(
      1,
      (batch) => batch.push(7),
      (outcome) => settled.push(outcome),
    );
    const flushed = sut.flush();
    await vi.advanceTimersByTimeAsync(20_000);
    await flushed;
    expect(log.filter((line) => line.startsWith('lost'))).toEqual([]);
    expect(log.at(-1)).toBe('committed 1');
    expect(settled).toEqual(['stored']);
  });

  it('counts batches kept for an absent store against the cap, and answers busy beyond it', async () => {
    const { sink, log } = recordingSink(Number.POSITIVE_INFINITY, () => false);
    const settled: string[] = [];
    const sut = new BatchBuffer(sink, {
      ...DEFAULT_BATCH_WRITER_OPTIONS,
      maxBatchSamples: 2,
      maxBufferedSamples: 3,
    });
    const track = (name: string) => (outcome: string) => settled.push(`${name} ${outcome}`);
    sut.add(2, (batch) => batch.push(1, 2), track('a'));
    // The full batch went to the store (which does not answer) and left the buffer empty.
    await vi.advanceTimersByTimeAsync(0);
    sut.add(1, (batch) => batch.push(3), track('b'));
    sut.add(1, (batch) => batch.push(4), track('c'));
    expect(settled).toEqual(['c busy']);
    expect(log).toContain('refused 1 holding 3');
  });

  it('on close, gives up after its attempts while the store is away and settles nothing', async () => {
    const { sink, log } = recordingSink(10, () => false);
    const settled: string[] = [];
    const sut = new BatchBuffer(sink, { ...DEFAULT_BATCH_WRITER_OPTIONS, attempts: 2 });
    sut.add(
      1,
      (batch) => batch.push(7),
      (outcome) => settled.push(outcome),
    );
    const closed = sut.close();
    await vi.advanceTimersByTimeAsync(1_000);
    await closed;
    expect(log).toEqual(['write 7 at 0', 'write 7 at 200']);
    expect(settled).toEqual([]);
  });

  it('commits a batch that succeeds on a later attempt', async () => {
    const { sink, log } = recordingSink(1);
    const sut = new BatchBuffer(sink, DEFAULT_BATCH_WRITER_OPTIONS);
    sut.add(1, (batch) => batch.push(7));
    const flushed = sut.flush();
    await vi.advanceTimersByTimeAsync(200);
    await flushed;
    expect(log).toEqual(['write 7 at 0', 'write 7 at 200', 'committed 1']);
    expect(sut.batches).toBe(1);
  });

  it('writes several batches at once and settles them in the order they were cut', async () => {
    // Each write waits until the test releases it, so the later batch can commit first.
    const releases = new Map<number, () => void>();
    let writing = 0;
    let mostAtOnce = 0;
    const sink: BatchSink<number[], number> = {
      newBatch: () => [],
      sizeOf: (batch) => batch.length,
      write: async (batch) => {
        writing += 1;
        mostAtOnce = Math.max(mostAtOnce, writing);
        await new Promise<void>((resolve) => releases.set(batch[0]!, resolve));
        writing -= 1;
        return batch.length;
      },
      afterCommit: () => Promise.resolve(),
      refused: () => undefined,
      lost: () => undefined,
      storeWritable: () => Promise.resolve(true),
      storeFault: () => false,
    };
    const settled: string[] = [];
    const sut = new BatchBuffer(sink, {
      ...DEFAULT_BATCH_WRITER_OPTIONS,
      maxBatchSamples: 1,
      concurrentBatches: 2,
    });
    for (const item of [1, 2, 3]) {
      sut.add(
        1,
        (batch) => batch.push(item),
        (outcome) => settled.push(`${item} ${outcome}`),
      );
    }
    await vi.advanceTimersByTimeAsync(0);
    // Two writers: the third batch waits for one of them.
    expect([...releases.keys()]).toEqual([1, 2]);
    releases.get(2)!();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual([]);
    expect([...releases.keys()]).toEqual([1, 2, 3]);
    releases.get(3)!();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual([]);
    releases.get(1)!();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual(['1 stored', '2 stored', '3 stored']);
    expect(mostAtOnce).toBe(2);
    expect(sut.batches).toBe(3);
  });

  it('with several writers, writes a batch as soon as it holds eagerBatchSamples and a writer is free', async () => {
    const { sink, log } = recordingSink();
    const sut = new BatchBuffer(sink, {
      ...DEFAULT_BATCH_WRITER_OPTIONS,
      concurrentBatches: 2,
      eagerBatchSamples: 2,
    });
    sut.add(1, (batch) => batch.push(1));
    await vi.advanceTimersByTimeAsync(10);
    expect(log).toEqual([]);
    sut.add(1, (batch) => batch.push(2));
    sut.add(1, (batch) => batch.push(3));
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['write 1,2,3 at 10', 'committed 3']);
  });
});
