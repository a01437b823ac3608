import { mkdir, open, readdir, readFile, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { DirLockedError, lockDir } from './dir-lock.js';

export interface SpoolOptions {
  /** Directory owned by this spool (one process at a time). Created if missing. */
  dir: string;
  /** Bound on the segment files on disk; when an append would pass it the oldest segment is dropped. */
  maxBytes: number;
  /** Target segment size; default maxBytes/16 clamped to [4 KiB, 8 MiB] and at most maxBytes/4. */
  segmentBytes?: number;
  /** fsync appended records and the ack state before resolving (default true). */
  fsync?: boolean;
  /**
   * Hold `<dir>/LOCK` while open (default true): a second open, from this or another live process,
   * fails with SPOOL_LOCKED. A lock left by a dead process is taken over.
   */
  lock?: boolean;
}

export interface SpoolRecord {
  id: number;
  data: Buffer;
}

export interface SpoolStats {
  /** Unacknowledged records. */
  records: number;
  /** On-disk bytes (header + payload) of the unacknowledged records. */
  bytes: number;
  /** Unacknowledged records dropped to stay within maxBytes, since the spool was created. */
  dropped: number;
  /** On-disk bytes (header + payload) of those dropped records. */
  droppedBytes: number;
  /** Bytes of all segment files, acknowledged records included; never above maxBytes. */
  diskBytes: number;
  /** Segment files on disk. */
  segments: number;
  /** Every record id up to this one is acknowledged or dropped (0 before the first). */
  ackedId: number;
}

/** Error codes of {@link SpoolError}. */
export enum SpoolErrorCode {
  CLOSED = 'SPOOL_CLOSED',
  RECORD_TOO_LARGE = 'SPOOL_RECORD_TOO_LARGE',
  CORRUPT = 'SPOOL_CORRUPT',
  BAD_OPTIONS = 'SPOOL_BAD_OPTIONS',
  LOCKED = 'SPOOL_LOCKED',
}

export class SpoolError extends Error {
  constructor(
    readonly code: SpoolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SpoolError';
  }
}

// Segment file: 8-byte header (magic "ABSP", u32 BE format version) then records back to back.
const SEGMENT_MAGIC = 0x41425350; // "ABSP"
const SEGMENT_VERSION = 1;
const SEGMENT_HEADER = 8;
// Record: u32 BE payload length, u32 BE id high, u32 BE id low, u32 BE CRC-32 of the 12 bytes before
// it plus the payload, then the payload. The CRC covers the length, so a torn length is caught too.
const RECORD_HEADER = 16;
const MAX_RECORD_PAYLOAD = 0x7fff_ffff;
const SEGMENT_SUFFIX = '.seg';
const STATE_FILE = 'state.json';
const STATE_TMP = 'state.json.tmp';
const EPOCH_FILE = 'EPOCH';
const EPOCH_TMP = 'EPOCH.tmp';
const READ_CHUNK = 64 * 1024;

interface Segment {
  path: string;
  firstId: number;
  lastId: number;
  /** Bytes of valid content (header + whole records). */
  size: number;
}

interface ActiveSegment {
  seg: Segment;
  fh: FileHandle;
  /** Written since the last datasync. */
  dirty: boolean;
}

interface Cursor {
  seg: Segment;
  /** Offset of the first record with id > ackedId, or seg.size if the segment has none. */
  offset: number;
}

interface PersistedState {
  v: 1;
  ackedId: number;
  dropped: number;
  droppedBytes: number;
}

function segmentName(firstId: number): string {
  return `${String(firstId).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

function encodeRecord(id: number, data: Buffer): Buffer {
  const rec = Buffer.allocUnsafe(RECORD_HEADER + data.length);
  rec.writeUInt32BE(data.length, 0);
  rec.writeUInt32BE(Math.floor(id / 0x1_0000_0000), 4);
  rec.writeUInt32BE(id >>> 0, 8);
  data.copy(rec, RECORD_HEADER);
  rec.writeUInt32BE(recordCrc(rec.subarray(0, 12), data), 12);
  return rec;
}

function recordCrc(head: Buffer, data: Buffer): number {
  return crc32(data, crc32(head));
}

interface DecodedHeader {
  length: number;
  id: number;
  crc: number;
}

function decodeHeader(buf: Buffer, at: number): DecodedHeader {
  return {
    length: buf.readUInt32BE(at),
    id: buf.readUInt32BE(at + 4) * 0x1_0000_0000 + buf.readUInt32BE(at + 8),
    crc: buf.readUInt32BE(at + 12),
  };
}

/** Reads a segment through a 64 KiB window, so that walking small records costs few syscalls. */
class SegmentReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;

  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<SegmentReader> {
    return new SegmentReader(await open(path, 'r'));
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const rel = offset - this.bufStart;
    if (rel >= 0 && rel + length <= this.buf.length) return this.buf.subarray(rel, rel + length);
    const size = Math.max(length, READ_CHUNK);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await this.fh.read(buf, got, size - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.buf = buf.subarray(0, got);
    this.bufStart = offset;
    if (got < length)
      throw new SpoolError(SpoolErrorCode.CORRUPT, `segment shorter than expected at ${offset + got}`);
    return this.buf.subarray(0, length);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * Store-and-forward queue on disk: append-only segment files of CRC-checked, length-prefixed records,
 * an ack position persisted atomically (temp file + rename), drop-oldest when the byte bound is hit.
 * All operations are serialized internally, so callers may interleave them freely.
 */
export class Spool {
  private segments: Segment[] = [];
  /** Segment currently appended to, always the last one; undefined until the next append opens one. */
  private active: ActiveSegment | undefined;
  private cursor: Cursor | undefined;
  private ackedId = 0;
  private nextId = 1;
  private dropped = 0;
  private droppedBytes = 0;
  private closed = false;
  private stateWasReset = false;
  private epochValue = '';
  private queue: Promise<unknown> = Promise.resolve();
  /** Positions after the records of the last peek, so acking them needs no re-scan. */
  private peeked = new Map<number, { seg: Segment; end: number }>();

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly segmentBytes: number,
    private readonly fsync: boolean,
    private readonly releaseLock: (() => Promise<void>) | undefined,
  ) {}

  static async open(options: SpoolOptions): Promise<Spool> {
    const { dir, maxBytes } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < SEGMENT_HEADER + RECORD_HEADER + 1) {
      throw new SpoolError(
        SpoolErrorCode.BAD_OPTIONS,
        `maxBytes must be an integer >= ${SEGMENT_HEADER + RECORD_HEADER + 1}`,
      );
    }
    const segmentBytes =
      options.segmentBytes ??
      Math.min(Math.max(4096, Math.floor(maxBytes / 16)), 8 * 1024 * 1024, Math.floor(maxBytes / 4));
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
      throw new SpoolError(SpoolErrorCode.BAD_OPTIONS, 'segmentBytes must be a positive integer');
    }
    await mkdir(dir, { recursive: true });
    let release: (() => Promise<void>) | undefined;
    if (options.lock ?? true) {
      try {
        release = await lockDir(dir);
      } catch (err) {
        if (err instanceof DirLockedError) throw new SpoolError(SpoolErrorCode.LOCKED, err.message);
        throw err;
      }
    }
    const spool = new Spool(dir, maxBytes, segmentBytes, options.fsync ?? true, release);
    try {
      await spool.recover();
    } catch (err) {
      await spool.active?.fh.close().catch(() => undefined);
      await release?.();
      throw err;
    }
    return spool;
  }

  /** Appends one record and returns its id (monotonic, survives restarts). */
  append(data: Buffer | string): Promise<number> {
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.serialize(async () => {
      const [id] = await this.appendNow([payload]);
      return id ?? 0;
    });
  }

  /**
   * Appends several records with a single fsync and returns their ids in order. Either all are
   * refused (one cannot ever fit) or all are written; with a crash midway a prefix may survive.
   */
  appendBatch(items: readonly (Buffer | string)[]): Promise<number[]> {
    const payloads = items.map((d) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
    return this.serialize(() => this.appendNow(payloads));
  }

  /** Oldest unacknowledged records first, in order, at most `limit`. */
  peek(limit: number): Promise<SpoolRecord[]> {
    return this.serialize(() => this.peekNow(limit));
  }

  /** Acknowledges every record up to and including `id`. */
  ack(id: number): Promise<void> {
    return this.serialize(() => this.ackNow(id));
  }

  stats(): SpoolStats {
    let records = 0;
    let bytes = 0;
    let diskBytes = 0;
    for (const seg of this.segments) {
      diskBytes += seg.size;
      if (seg.lastId <= this.ackedId || seg.size <= SEGMENT_HEADER) continue;
      records += seg.lastId - Math.max(seg.firstId - 1, this.ackedId);
      bytes += seg.size - (this.cursor?.seg === seg ? this.cursor.offset : SEGMENT_HEADER);
    }
    return {
      records,
      bytes,
      dropped: this.dropped,
      droppedBytes: this.droppedBytes,
      diskBytes,
      segments: this.segments.length,
      ackedId: this.ackedId,
    };
  }

  /**
   * Random id of this spool's run of record ids, made when the directory is first opened and kept in
   * `<dir>/EPOCH`: records with the same epoch have contiguous ids that never repeat, so a reader can tell
   * a record it never got from one it got twice. A new directory (a wiped one) gets a new epoch.
   */
  get epoch(): string {
    return this.epochValue;
  }

  /** True when the ack state file was unreadable on open and every record on disk is replayed. */
  get recoveredWithoutState(): boolean {
    return this.stateWasReset;
  }

  /** Waits for pending operations, then releases the file handles; later calls reject with CLOSED. */
  close(): Promise<void> {
    if (this.closed) return this.queue.then(() => undefined);
    const run = this.serialize(async () => {
      try {
        await this.sealActive();
      } finally {
        await this.releaseLock?.();
      }
    });
    this.closed = true;
    return run;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    // Checked at call time: operations queued before close() still run, later ones are refused.
    if (this.closed) return Promise.reject(new SpoolError(SpoolErrorCode.CLOSED, 'spool is closed'));
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------------ recovery

  private async recover(): Promise<void> {
    await rm(join(this.dir, STATE_TMP), { force: true });
    this.epochValue = await this.readOrCreateEpoch();
    const state = await this.readState();
    this.ackedId = state.ackedId;
    this.dropped = state.dropped;
    this.droppedBytes = state.droppedBytes;

    const names = (await readdir(this.dir)).filter((n) => /^\d{20}\.seg$/.test(n)).sort();
    let lastId = 0;
    for (const name of names) {
      const seg = await this.scanSegment(join(this.dir, name), lastId);
      if (seg) {
        this.segments.push(seg);
        lastId = seg.lastId;
      }
    }
    // Without fsync a power cut can lose records whose ack was already persisted; ids still never go back.
    this.nextId = Math.max(lastId, this.ackedId) + 1;

    // Fully acknowledged segments are garbage: a crash can leave them between the state write and the unlink.
    const keep: Segment[] = [];
    for (const seg of this.segments) {
      if (seg.lastId <= this.ackedId) await unlink(seg.path);
      else keep.push(seg);
    }
    this.segments = keep;
    if (this.fsync && keep.length !== names.length) await this.syncDir();

    const last = this.segments.at(-1);
    if (last) this.active = { seg: last, fh: await open(last.path, 'a'), dirty: false };
    await this.locateCursor();
  }

  private async readOrCreateEpoch(): Promise<string> {
    try {
      const text = (await readFile(join(this.dir, EPOCH_FILE), 'utf8')).trim();
      if (/^[0-9a-f]{16,64}$/.test(text)) return text;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // Missing (a new directory, or one from before epochs) or damaged: a new run of ids starts here.
    const epoch = randomBytes(8).toString('hex');
    const tmp = join(this.dir, EPOCH_TMP);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(epoch);
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, EPOCH_FILE));
    if (this.fsync) await this.syncDir();
    return epoch;
  }

  private async readState(): Promise<PersistedState> {
    let text: string;
    try {
      text = await readFile(join(this.dir, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { v: 1, ackedId: 0, dropped: 0, droppedBytes: 0 };
      throw err;
    }
    let parsed: Partial<PersistedState> = {};
    try {
      parsed = JSON.parse(text) as Partial<PersistedState>;
    } catch {
      // Only a damaged disk gets here (the file is replaced by rename); fall through to the fresh state.
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
    const ackedId = num(parsed.ackedId);
    const dropped = num(parsed.dropped);
    const droppedBytes = num(parsed.droppedBytes);
    if (parsed.v !== 1 || ackedId === undefined || dropped === undefined || droppedBytes === undefined) {
      // Replaying acknowledged records beats losing unacknowledged ones: the cloud drops duplicates.
      this.stateWasReset = true;
      return { v: 1, ackedId: 0, dropped: 0, droppedBytes: 0 };
    }
    return { v: 1, ackedId, dropped, droppedBytes };
  }

  /**
   * Validates a segment record by record and truncates it after the last whole, CRC-valid record
   * (a crash mid-append leaves a torn tail). Returns undefined, after deleting it, for a segment
   * without any valid record.
   */
  private async scanSegment(path: string, prevLastId: number): Promise<Segment | undefined> {
    const buf = await readFile(path);
    let valid = 0;
    let firstId = 0;
    let lastId = 0;
    if (
      buf.length >= SEGMENT_HEADER &&
      buf.readUInt32BE(0) === SEGMENT_MAGIC &&
      buf.readUInt32BE(4) === SEGMENT_VERSION
    ) {
      valid = SEGMENT_HEADER;
      while (valid + RECORD_HEADER <= buf.length) {
        const h = decodeHeader(buf, valid);
        const end = valid + RECORD_HEADER + h.length;
        if (end > buf.length) break;
        if (recordCrc(buf.subarray(valid, valid + 12), buf.subarray(valid + RECORD_HEADER, end)) !== h.crc)
          break;
        // Ids only grow; a record breaking that is not one this spool wrote there.
        if (lastId === 0 ? h.id <= prevLastId : h.id !== lastId + 1) break;
        if (firstId === 0) firstId = h.id;
        lastId = h.id;
        valid = end;
      }
    } else if (buf.length > 0 && buf.length < SEGMENT_HEADER) {
      // A header torn by a crash right after the file was created.
      valid = 0;
    }
    if (lastId === 0) {
      await unlink(path);
      return undefined;
    }
    if (valid < buf.length) {
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(valid);
        if (this.fsync) await fh.sync();
      } finally {
        await fh.close();
      }
    }
    return { path, firstId, lastId, size: valid };
  }

  /** Points the cursor at the first record with id > ackedId, scanning headers only where needed. */
  private async locateCursor(): Promise<void> {
    const seg = this.segments.find((s) => s.lastId > this.ackedId);
    if (!seg) {
      const last = this.segments.at(-1);
      this.cursor = last ? { seg: last, offset: last.size } : undefined;
      return;
    }
    if (seg.firstId > this.ackedId) {
      this.cursor = { seg, offset: SEGMENT_HEADER };
      return;
    }
    const hint = this.peeked.get(this.ackedId);
    if (hint?.seg === seg) {
      this.cursor = { seg, offset: hint.end };
      return;
    }
    let offset = this.cursor?.seg === seg ? this.cursor.offset : SEGMENT_HEADER;
    const reader = await SegmentReader.open(seg.path);
    try {
      while (offset < seg.size) {
        const h = decodeHeader(await reader.read(offset, RECORD_HEADER), 0);
        if (h.id > this.ackedId) break;
        offset += RECORD_HEADER + h.length;
      }
    } finally {
      await reader.close();
    }
    this.cursor = { seg, offset };
  }

  // ------------------------------------------------------------------ operations

  private async appendNow(payloads: Buffer[]): Promise<number[]> {
    for (const data of payloads) {
      if (data.length > MAX_RECORD_PAYLOAD || RECORD_HEADER + data.length + SEGMENT_HEADER > this.maxBytes) {
        throw new SpoolError(
          SpoolErrorCode.RECORD_TOO_LARGE,
          `record of ${data.length} bytes cannot fit in a spool of ${this.maxBytes} bytes`,
        );
      }
    }
    const ids: number[] = [];
    for (const data of payloads) ids.push(await this.writeRecord(data));
    await this.syncActive();
    return ids;
  }

  /** Writes one record (without the final fsync), making room and rolling segments as needed. */
  private async writeRecord(data: Buffer): Promise<number> {
    const id = this.nextId;
    const rec = encodeRecord(id, data);

    if (this.active) {
      const seg = this.active.seg;
      // Roll over when the segment is full, or when it holds only acknowledged records (then drop it).
      if (seg.lastId <= this.ackedId || seg.size + rec.length > this.segmentBytes) await this.sealActive();
      if (seg.lastId <= this.ackedId) await this.removeSegment(seg);
    }

    let need = rec.length + (this.active ? 0 : SEGMENT_HEADER);
    while (this.diskBytes() + need > this.maxBytes) {
      const oldest = this.segments[0];
      if (!oldest) break;
      if (oldest === this.active?.seg) {
        // The only segment is the one being appended to; it goes as a whole and a new one starts.
        await this.sealActive();
        need += SEGMENT_HEADER;
      }
      await this.dropOldest();
    }

    const active = this.active ?? (await this.startSegment(id));
    try {
      let written = 0;
      while (written < rec.length) {
        const { bytesWritten } = await active.fh.write(rec, written, rec.length - written);
        written += bytesWritten;
      }
    } catch (err) {
      // Leave no partial record behind (ENOSPC, EIO); the next open would cut it anyway.
      await active.fh.truncate(active.seg.size).catch(() => undefined);
      throw err;
    }
    active.dirty = true;
    active.seg.size += rec.length;
    active.seg.lastId = id;
    this.nextId = id + 1;
    return id;
  }

  private async peekNow(limit: number): Promise<SpoolRecord[]> {
    this.peeked.clear();
    const out: SpoolRecord[] = [];
    if (!this.cursor || limit <= 0) return out;
    let index = this.segments.indexOf(this.cursor.seg);
    let offset = this.cursor.offset;
    while (out.length < limit && index < this.segments.length) {
      const seg = this.segments[index];
      if (!seg) break;
      if (offset < seg.size) {
        const reader = await SegmentReader.open(seg.path);
        try {
          while (out.length < limit && offset < seg.size) {
            const h = decodeHeader(await reader.read(offset, RECORD_HEADER), 0);
            const head = Buffer.from(await reader.read(offset, 12));
            const data = Buffer.from(await reader.read(offset + RECORD_HEADER, h.length));
            if (recordCrc(head, data) !== h.crc) {
              throw new SpoolError(
                SpoolErrorCode.CORRUPT,
                `record ${h.id} in ${seg.path} fails its checksum`,
              );
            }
            offset += RECORD_HEADER + h.length;
            out.push({ id: h.id, data });
            this.peeked.set(h.id, { seg, end: offset });
          }
        } finally {
          await reader.close();
        }
      }
      index += 1;
      offset = SEGMENT_HEADER;
    }
    return out;
  }

  private async ackNow(id: number): Promise<void> {
    if (!Number.isSafeInteger(id)) throw new RangeError(`ack id must be a safe integer, got ${id}`);
    // Ids never handed out cannot be acknowledged: future records would be born acknowledged.
    const upTo = Math.min(id, this.nextId - 1);
    if (upTo <= this.ackedId) return;
    this.ackedId = upTo;
    await this.writeState();
    for (const seg of [...this.segments]) {
      if (seg.lastId > this.ackedId) break;
      if (seg === this.active?.seg) continue; // rolled over on the next append
      await this.removeSegment(seg);
    }
    await this.locateCursor();
  }

  // ------------------------------------------------------------------ segments and state

  private diskBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.size, 0);
  }

  private async startSegment(firstId: number): Promise<ActiveSegment> {
    const path = join(this.dir, segmentName(firstId));
    const fh = await open(path, 'a');
    const header = Buffer.allocUnsafe(SEGMENT_HEADER);
    header.writeUInt32BE(SEGMENT_MAGIC, 0);
    header.writeUInt32BE(SEGMENT_VERSION, 4);
    try {
      await fh.write(header);
    } catch (err) {
      await fh.close();
      await unlink(path).catch(() => undefined);
      throw err;
    }
    if (this.fsync) await this.syncDir();
    // lastId is the id before firstId until the first record lands; an empty segment counts as acknowledged.
    const seg: Segment = { path, firstId, lastId: firstId - 1, size: SEGMENT_HEADER };
    this.segments.push(seg);
    this.active = { seg, fh, dirty: false };
    // A cursor at the end of an older segment needs no move: peek walks on into the next segment.
    this.cursor ??= { seg, offset: SEGMENT_HEADER };
    return this.active;
  }

  private async syncActive(): Promise<void> {
    const active = this.active;
    if (!active?.dirty) return;
    if (this.fsync) await active.fh.datasync();
    active.dirty = false;
  }

  /** Stops appending to the current segment; what was written to it is made durable first. */
  private async sealActive(): Promise<void> {
    const active = this.active;
    if (!active) return;
    await this.syncActive();
    this.active = undefined;
    await active.fh.close();
  }

  /** Drops the oldest segment to make room, counting its unacknowledged records as dropped. */
  private async dropOldest(): Promise<void> {
    const seg = this.segments[0];
    if (!seg) return;
    if (seg.lastId > this.ackedId) {
      const records = seg.lastId - Math.max(seg.firstId - 1, this.ackedId);
      const bytes = seg.size - (this.cursor?.seg === seg ? this.cursor.offset : SEGMENT_HEADER);
      this.dropped += records;
      this.droppedBytes += bytes;
      this.ackedId = seg.lastId;
      // Persisted as acknowledged first: a crash before the unlink then cannot replay what was counted dropped.
      await this.writeState();
    }
    await this.removeSegment(seg);
  }

  private async removeSegment(seg: Segment): Promise<void> {
    if (this.active?.seg === seg) await this.sealActive();
    this.segments = this.segments.filter((s) => s !== seg);
    for (const [id, p] of this.peeked) if (p.seg === seg) this.peeked.delete(id);
    await unlink(seg.path);
    if (this.fsync) await this.syncDir();
    if (this.cursor?.seg === seg) {
      const head = this.segments[0];
      this.cursor = head ? { seg: head, offset: SEGMENT_HEADER } : undefined;
    }
  }

  private async writeState(): Promise<void> {
    const state: PersistedState = {
      v: 1,
      ackedId: this.ackedId,
      dropped: this.dropped,
      droppedBytes: this.droppedBytes,
    };
    const tmp = join(this.dir, STATE_TMP);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(state));
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, STATE_FILE));
    if (this.fsync) await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const fh = await open(this.dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
