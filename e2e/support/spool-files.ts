import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A record of a box's spool as the device agent writes it: `{ c: channel, m: message }`. */
export interface SpooledRecord {
  id: number;
  channel: string;
  message: { seq: number; samples?: Array<{ ts: number }> };
}

export interface SpoolOnDisk {
  /** Unacknowledged records, oldest first (a record torn by a write in progress is left out). */
  records: SpooledRecord[];
  /** Records the spool dropped to stay within its bound, since it was created. */
  dropped: number;
}

/**
 * Reads a box's spool (`<stateDir>/spool`) from outside the agent, following packages/spool's format:
 * segment files of records (u32 length, u32 id high, u32 id low, u32 CRC, payload) after an 8-byte
 * header, and `state.json` with the ack position and the drop count. Safe while the agent runs: the state
 * file is replaced by rename, and a segment's tail may only be a record still being written.
 */
export function readSpool(stateDir: string): SpoolOnDisk {
  const dir = join(stateDir, 'spool');
  if (!existsSync(dir)) return { records: [], dropped: 0 };
  let ackedId = 0;
  let dropped = 0;
  try {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
      ackedId: number;
      dropped: number;
    };
    ({ ackedId, dropped } = state);
  } catch {
    // No ack yet.
  }
  const records: SpooledRecord[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort()) {
    let buf: Buffer;
    try {
      buf = readFileSync(join(dir, name));
    } catch {
      continue; // removed meanwhile (acknowledged or dropped)
    }
    for (let at = 8; at + 16 <= buf.length;) {
      const length = buf.readUInt32BE(at);
      const id = buf.readUInt32BE(at + 4) * 0x1_0000_0000 + buf.readUInt32BE(at + 8);
      if (at + 16 + length > buf.length) break;
      if (id > ackedId) {
        const { c, m } = JSON.parse(buf.subarray(at + 16, at + 16 + length).toString('utf8')) as {
          c: string;
          m: SpooledRecord['message'];
        };
        records.push({ id, channel: c, message: m });
      }
      at += 16 + length;
    }
  }
  return { records, dropped };
}

/** The `ts` of every telemetry sample in `records`, in spool order. */
export function spooledSampleTimes(records: readonly SpooledRecord[]): number[] {
  return records
    .filter((record) => record.channel === 'telemetry')
    .flatMap((record) => (record.message.samples ?? []).map((sample) => sample.ts));
}
