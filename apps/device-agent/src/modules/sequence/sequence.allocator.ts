import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFileSync, writeFileAtomicSync } from '../../common/atomic-file.js';

export const SEQUENCE_FILE = 'seq.json';
export const DEFAULT_SEQ_BLOCK = 1_000;

const SeqFileSchema = z.object({ reservedUpTo: z.number().int().nonnegative() });

/**
 * Per-device sequence numbers that only ever grow, across restarts and kill -9.
 *
 * The file holds a high-water mark: every number handed out is below it. Numbers are reserved
 * in blocks; the new mark is made durable (fsync + rename) before any number past the old mark
 * is used. A crash loses at most the rest of a block (a gap, which the cloud tolerates) and never
 * reuses a number (which the cloud would drop as a duplicate).
 */
export class SequenceAllocator {
  private nextSeq: number;
  private reservedUpTo: number;
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly blockSize = DEFAULT_SEQ_BLOCK,
  ) {
    this.path = join(stateDir, SEQUENCE_FILE);
    const raw = readJsonFileSync(this.path);
    const parsed = raw === undefined ? { reservedUpTo: 0 } : SeqFileSchema.parse(raw);
    // Everything below the mark may have been used by the previous run: start at the mark.
    this.nextSeq = parsed.reservedUpTo;
    this.reservedUpTo = parsed.reservedUpTo;
  }

  /** The next sequence number; synchronous, so callers can stamp a message without awaiting. */
  next(): number {
    if (this.nextSeq >= this.reservedUpTo) this.reserve();
    const seq = this.nextSeq;
    this.nextSeq += 1;
    return seq;
  }

  /** The number the next call to next() would return (for reports and tests). */
  peek(): number {
    return this.nextSeq;
  }

  private reserve(): void {
    const mark = this.nextSeq + this.blockSize;
    writeFileAtomicSync(this.path, `${JSON.stringify({ reservedUpTo: mark })}\n`, 0o600);
    this.reservedUpTo = mark;
  }
}
