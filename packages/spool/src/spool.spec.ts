import { appendFile, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { Spool, SpoolError, SpoolErrorCode, type SpoolOptions } from './spool.js';

const RECORD_HEADER = 16;
const SEGMENT_HEADER = 8;

describe('Spool', () => {
  const dir = useTempDir('agentbox-spool-');
  const open: Spool[] = [];

  async function openSpool(options: Partial<SpoolOptions> = {}): Promise<Spool> {
    const spool = await Spool.open({ dir: dir.path, maxBytes: 1024 * 1024, ...options });
    open.push(spool);
    return spool;
  }

  async function drain(spool: Spool): Promise<{ id: number; text: string }[]> {
    const records = await spool.peek(1_000_000);
    return records.map((r) => ({ id: r.id, text: r.data.toString('utf8') }));
  }

  async function segmentFiles(): Promise<string[]> {
    return (await readdir(dir.path)).filter((n) => n.endsWith('.seg')).sort();
  }

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('returns records oldest first with monotonic ids', async () => {
    const sut = await openSpool();
    expect(await sut.append('a')).toBe(1);
    expect(await sut.append(Buffer.from('b'))).toBe(2);
    expect(await sut.append('')).toBe(3);
    expect(await drain(sut)).toEqual([
      { id: 1, text: 'a' },
      { id: 2, text: 'b' },
      { id: 3, text: '' },
    ]);
    expect(sut.stats()).toMatchObject({
      records: 3,
      bytes: 3 * RECORD_HEADER + 2,
      dropped: 0,
      droppedBytes: 0,
    });
  });

  it('appends a batch in order and survives a restart', async () => {
    const first = await openSpool({ segmentBytes: 64 });
    await first.append('solo');
    expect(await first.appendBatch(['b1', Buffer.from('b2'), 'b3'.repeat(30)])).toEqual([2, 3, 4]);
    expect(await first.appendBatch([])).toEqual([]);
    await first.close();
    const second = await openSpool({ segmentBytes: 64 });
    expect((await drain(second)).map((r) => r.text)).toEqual(['solo', 'b1', 'b2', 'b3'.repeat(30)]);
  });

  it('refuses a whole batch when one record can never fit', async () => {
    const sut = await openSpool({ maxBytes: 100 });
    await expect(sut.appendBatch(['ok', 'q'.repeat(77)])).rejects.toMatchObject({
      code: SpoolErrorCode.RECORD_TOO_LARGE,
    });
    expect(sut.stats().records).toBe(0);
    expect(await sut.append('ok')).toBe(1);
  });

  it('peeks without consuming and honours the limit', async () => {
    const sut = await openSpool();
    for (const t of ['a', 'b', 'c']) await sut.append(t);
    expect((await sut.peek(2)).map((r) => r.id)).toEqual([1, 2]);
    expect((await sut.peek(2)).map((r) => r.id)).toEqual([1, 2]);
    expect(await sut.peek(0)).toEqual([]);
  });

  it('acknowledges every record up to and including the id', async () => {
    const sut = await openSpool();
    for (let i = 0; i < 10; i++) await sut.append(`r${i + 1}`);
    await sut.ack(4);
    expect((await sut.peek(3)).map((r) => r.id)).toEqual([5, 6, 7]);
    await sut.ack(2); // older ack: no-op
    expect((await sut.peek(1)).map((r) => r.id)).toEqual([5]);
    await sut.ack(10);
    expect(await sut.peek(10)).toEqual([]);
    expect(sut.stats()).toMatchObject({ records: 0, bytes: 0 });
    expect(await sut.append('next')).toBe(11);
    expect(await drain(sut)).toEqual([{ id: 11, text: 'next' }]);
  });

  it('ignores acks of ids it has not handed out yet', async () => {
    const sut = await openSpool();
    await sut.append('a');
    await sut.ack(1000);
    const id = await sut.append('b');
    expect(id).toBe(2);
    expect(await drain(sut)).toEqual([{ id: 2, text: 'b' }]);
  });

  it('walks across segments and removes fully acknowledged ones', async () => {
    const sut = await openSpool({ segmentBytes: 100 });
    const payload = 'x'.repeat(20); // 36 bytes a record: two per segment
    for (let i = 0; i < 10; i++) await sut.append(payload);
    expect(await segmentFiles()).toHaveLength(5);
    expect((await sut.peek(100)).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    await sut.ack(5);
    expect(await segmentFiles()).toHaveLength(3);
    expect((await sut.peek(100)).map((r) => r.id)).toEqual([6, 7, 8, 9, 10]);
    expect(sut.stats()).toMatchObject({ records: 5, bytes: 5 * 36 });
  });

  it('survives a restart: unacknowledged records replay in order, ids keep growing', async () => {
    const first = await openSpool({ segmentBytes: 128 });
    for (let i = 1; i <= 20; i++) await first.append(`m${i}`);
    await first.ack(7);
    await first.close();

    const second = await openSpool({ segmentBytes: 128 });
    const replay = await drain(second);
    expect(replay.map((r) => r.id)).toEqual(Array.from({ length: 13 }, (_, i) => i + 8));
    expect(replay.map((r) => r.text)).toEqual(Array.from({ length: 13 }, (_, i) => `m${i + 8}`));
    expect(second.stats().records).toBe(13);
    expect(await second.append('m21')).toBe(21);
  });

  it('keeps its epoch across restarts and a lost ack state, and a wiped directory gets a new one', async () => {
    const first = await openSpool({ segmentBytes: 128 });
    const epoch = first.epoch;
    expect(epoch).toMatch(/^[0-9a-f]{16}$/);
    for (let i = 1; i <= 5; i++) await first.append(`m${i}`);
    await first.ack(3);
    expect(first.stats().ackedId).toBe(3);
    await first.close();
    await rm(join(dir.path, 'state.json'));

    const second = await openSpool({ segmentBytes: 128 });
    expect(second.epoch).toBe(epoch);
    expect(second.stats().ackedId).toBe(0);
    await second.close();
    await rm(dir.path, { recursive: true });

    const third = await openSpool({ segmentBytes: 128 });
    expect(third.epoch).not.toBe(epoch);
    expect(await third.append('fresh')).toBe(1);
  });

  it('keeps ids growing after everything was acknowledged and the files are gone', async () => {
    const first = await openSpool();
    for (let i = 0; i < 5; i++) await first.append('a');
    await first.ack(5);
    await first.append('b'); // rolls the acknowledged segment away
    await first.ack(6);
    await first.close();

    const second = await openSpool();
    expect(await second.peek(10)).toEqual([]);
    expect(await second.append('c')).toBe(7);
  });

  it('opens an empty or missing directory', async () => {
    await rm(dir.path, { recursive: true });
    const sut = await openSpool();
    expect(sut.stats()).toEqual({
      records: 0,
      bytes: 0,
      dropped: 0,
      droppedBytes: 0,
      diskBytes: 0,
      segments: 0,
      ackedId: 0,
    });
    expect(await sut.peek(5)).toEqual([]);
  });

  describe('byte bound', () => {
    it('drops the oldest records when full, counts them and persists the count', async () => {
      const maxBytes = 1000;
      const sut = await openSpool({ maxBytes, segmentBytes: 200 });
      const payload = 'y'.repeat(34); // 50 bytes a record, 3 per 200-byte segment (8-byte header)
      for (let i = 0; i < 100; i++) await sut.append(payload);

      const stats = sut.stats();
      expect(stats.diskBytes).toBeLessThanOrEqual(maxBytes);
      expect(stats.dropped).toBeGreaterThan(0);
      expect(stats.dropped + stats.records).toBe(100);
      expect(stats.droppedBytes).toBe(stats.dropped * 50);
      const ids = (await sut.peek(1000)).map((r) => r.id);
      expect(ids.at(-1)).toBe(100);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 101 - ids.length + i));
      // Whole segments go: at most one segment's worth below the bound is lost to granularity.
      expect(stats.diskBytes).toBeGreaterThan(maxBytes - 200 - 50);
      await sut.close();

      const reopened = await openSpool({ maxBytes, segmentBytes: 200 });
      expect(reopened.stats()).toMatchObject({
        dropped: stats.dropped,
        droppedBytes: stats.droppedBytes,
        records: stats.records,
      });
      expect((await reopened.peek(1000)).map((r) => r.id)).toEqual(ids);
      let onDisk = 0;
      for (const f of await segmentFiles()) onDisk += (await stat(join(dir.path, f))).size;
      expect(onDisk).toBeLessThanOrEqual(maxBytes);
    });

    it('does not count acknowledged records as dropped', async () => {
      const sut = await openSpool({ maxBytes: 500, segmentBytes: 108 });
      const payload = 'z'.repeat(34); // 50 bytes: two per segment
      for (let i = 0; i < 8; i++) await sut.append(payload); // 4 full segments, 432 bytes
      await sut.peek(3);
      await sut.ack(3); // segment 1 removed, record 3 acknowledged inside segment 2
      for (let i = 0; i < 3; i++) await sut.append(payload);
      expect(sut.stats()).toMatchObject({ dropped: 0, records: 8 }); // 490 bytes on disk
      await sut.append(payload);
      // 12 appended, 3 acknowledged; dropping segment 2 (ids 3 and 4) cost only record 4.
      expect(sut.stats()).toMatchObject({ dropped: 1, droppedBytes: 50, records: 8 });
      expect((await sut.peek(100)).map((r) => r.id)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    });

    it('keeps working when a single segment fills the whole bound', async () => {
      const sut = await openSpool({ maxBytes: 200, segmentBytes: 10_000 });
      for (let i = 1; i <= 10; i++) await sut.append('w'.repeat(34));
      expect(sut.stats().diskBytes).toBeLessThanOrEqual(200);
      const ids = (await sut.peek(100)).map((r) => r.id);
      expect(ids.at(-1)).toBe(10);
      expect(sut.stats().dropped + ids.length).toBe(10);
    });

    it('refuses a record that can never fit', async () => {
      const sut = await openSpool({ maxBytes: 100 });
      await expect(sut.append('q'.repeat(77))).rejects.toMatchObject({
        code: SpoolErrorCode.RECORD_TOO_LARGE,
      });
      expect(await sut.append('q'.repeat(76))).toBe(1);
    });
  });

  describe('crash recovery', () => {
    it('cuts a torn tail record and keeps everything before it', async () => {
      const first = await openSpool();
      for (let i = 1; i <= 5; i++) await first.append(`rec-${i}`);
      await first.close();
      const [seg] = await segmentFiles();
      const path = join(dir.path, seg!);
      const size = (await stat(path)).size;
      await truncate(path, size - 3); // the last record loses its final bytes

      const second = await openSpool();
      expect((await drain(second)).map((r) => r.text)).toEqual(['rec-1', 'rec-2', 'rec-3', 'rec-4']);
      expect((await stat(path)).size).toBe(SEGMENT_HEADER + 4 * (RECORD_HEADER + 5));
      // The lost record's id is handed out again: it was never durably written.
      expect(await second.append('rec-5 again')).toBe(5);
      await second.close();

      const third = await openSpool();
      expect((await drain(third)).map((r) => r.text)).toEqual([
        'rec-1',
        'rec-2',
        'rec-3',
        'rec-4',
        'rec-5 again',
      ]);
    });

    it('cuts a tail whose header is torn or whose checksum fails', async () => {
      const first = await openSpool();
      await first.append('keep');
      await first.append('flip');
      await first.close();
      const path = join(dir.path, (await segmentFiles())[0]!);
      const bytes = await readFile(path);
      bytes[bytes.length - 1]! ^= 0xff; // bit rot in the last payload
      await writeFile(path, bytes);
      await appendFile(path, Buffer.from([0, 0, 0])); // half a header behind it

      const second = await openSpool();
      expect(await drain(second)).toEqual([{ id: 1, text: 'keep' }]);
      expect(await second.append('after')).toBe(2);
    });

    it('removes a segment file torn right after creation', async () => {
      const first = await openSpool({ segmentBytes: 64 });
      await first.append('a'.repeat(30));
      await first.close();
      await writeFile(join(dir.path, '00000000000000000002.seg'), Buffer.from([0x41, 0x42]));

      const second = await openSpool({ segmentBytes: 64 });
      expect(await segmentFiles()).toEqual(['00000000000000000001.seg']);
      expect(await second.append('b')).toBe(2);
      expect((await second.peek(10)).map((r) => r.id)).toEqual([1, 2]);
    });

    it('finishes an acknowledgement interrupted before the segment was removed', async () => {
      const first = await openSpool({ segmentBytes: 100 });
      for (let i = 0; i < 6; i++) await first.append('x'.repeat(20));
      await first.close();
      // As if the process died right after persisting ack 4, before unlinking segments.
      await writeFile(
        join(dir.path, 'state.json'),
        JSON.stringify({ v: 1, ackedId: 4, dropped: 0, droppedBytes: 0 }),
      );

      const second = await openSpool({ segmentBytes: 100 });
      expect((await second.peek(10)).map((r) => r.id)).toEqual([5, 6]);
      expect(await segmentFiles()).toHaveLength(1);
    });

    it('replays everything rather than losing records when the state file is damaged', async () => {
      const first = await openSpool();
      for (let i = 0; i < 3; i++) await first.append(`s${i}`);
      await first.ack(2);
      await first.close();
      await writeFile(join(dir.path, 'state.json'), '{"v":1,"acked');

      const second = await openSpool();
      expect(second.recoveredWithoutState).toBe(true);
      expect((await second.peek(10)).map((r) => r.id)).toEqual([1, 2, 3]);
    });
  });

  describe('concurrency', () => {
    it('serializes interleaved appends, peeks and acks', async () => {
      const sut = await openSpool({ segmentBytes: 256 });
      const appends = Array.from({ length: 200 }, (_, i) => sut.append(`c${i}`));
      const peeks = [sut.peek(5), sut.peek(50)];
      const acks = [sut.ack(10), sut.ack(20)];
      const ids = await Promise.all(appends);
      await Promise.all([...peeks, ...acks]);
      expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const rest = await drain(sut);
      expect(rest[0]).toEqual({ id: 21, text: 'c20' });
      expect(rest.map((r) => r.id)).toEqual(Array.from({ length: 180 }, (_, i) => i + 21));
    });

    it('refuses work after close but finishes what was queued before', async () => {
      const sut = await openSpool();
      const pending = sut.append('before');
      const closing = sut.close();
      await expect(pending).resolves.toBe(1);
      await closing;
      await expect(sut.append('after')).rejects.toBeInstanceOf(SpoolError);
      await expect(sut.peek(1)).rejects.toMatchObject({ code: SpoolErrorCode.CLOSED });
      await sut.close(); // idempotent
    });
  });

  describe('lock', () => {
    it('refuses a second open of the same directory until the first is closed', async () => {
      const first = await openSpool();
      await expect(Spool.open({ dir: dir.path, maxBytes: 4096 })).rejects.toMatchObject({
        code: SpoolErrorCode.LOCKED,
      });
      await first.append('still mine');
      await first.close();
      const second = await openSpool();
      expect((await drain(second)).map((r) => r.text)).toEqual(['still mine']);
    });

    it('can be turned off', async () => {
      await openSpool();
      const unlocked = await openSpool({ lock: false });
      expect(unlocked.stats().records).toBe(0);
    });
  });

  it('validates its options', async () => {
    await expect(Spool.open({ dir: dir.path, maxBytes: 10 })).rejects.toMatchObject({
      code: SpoolErrorCode.BAD_OPTIONS,
    });
    await expect(Spool.open({ dir: dir.path, maxBytes: 1000, segmentBytes: 0 })).rejects.toMatchObject({
      code: SpoolErrorCode.BAD_OPTIONS,
    });
  });
});
