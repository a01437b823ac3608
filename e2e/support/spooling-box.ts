import { randomBytes } from 'node:crypto';
import { provisionBox, SimulatedBox, sleep, waitFor } from '@agentbox/test-support';
import type { StoredMessage } from '@agentbox/schemas';

export interface SpoolingBoxOptions {
  /** One telemetry message (one sample) this often. */
  intervalMs?: number;
  /** At most this many messages not confirmed stored yet in flight. */
  window?: number;
  /** Sent again when acknowledged by the broker and not confirmed stored after this long. */
  storedTimeoutMs?: number;
}

interface Spooled {
  seq: number;
  ts: number;
}

/**
 * A `SimulatedBox` that keeps what it sends the way the device agent's spool does (docs/protocol.md,
 * "Acknowledged means stored"): each message carries its spool position (its `seq` is its spool record id,
 * so ids are contiguous), and leaves the spool only once the fleet service confirms storing it
 * (`down/stored`); the broker's PUBACK only stops it being sent again on this connection. A refused or
 * unanswered one (a closed connection, a reason code of 0x80 or more) is sent again, same `seq`, after it
 * reconnects. It counts every sequence number it made and every one confirmed, for `countStored`.
 */
export class SpoolingBox {
  /** Every sequence number made, in order. */
  readonly sent: number[] = [];
  /** Every sequence number the fleet service confirmed stored: the box deleted it. */
  readonly acked = new Set<number>();
  /** Every sequence number the broker acknowledged. */
  readonly pubacked = new Set<number>();
  /** PUBACKs with a reason code of 0x80 or more, and publishes lost with their connection. */
  refusals = 0;
  reconnects = 0;
  /** Messages sent again because no confirmation came in time while connected. */
  unconfirmedResends = 0;
  private readonly epoch = randomBytes(8).toString('hex');
  private readonly spool = new Map<number, Spooled>();
  /** Sent on this connection and not confirmed yet, with when the broker acknowledged them. */
  private readonly inFlight = new Map<number, number | undefined>();
  private box: SimulatedBox | undefined;
  private generation = 0;
  private nextSeq = 1;
  private producer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private reconnecting = false;
  private stopped = false;

  private constructor(
    readonly deviceId: string,
    private readonly url: string,
    private readonly password: string,
    private readonly options: Required<SpoolingBoxOptions>,
  ) {}

  /** Enrols a box with `claimToken`, connects it and starts sending. */
  static async enrol(
    fleetUrl: string,
    claimToken: string,
    name: string,
    options: SpoolingBoxOptions = {},
  ): Promise<SpoolingBox> {
    const identity = await provisionBox(fleetUrl, { claimToken, hardwareId: `fault-${name}`, name });
    const box = new SpoolingBox(identity.deviceId, identity.mqtt.url, identity.mqtt.password, {
      intervalMs: options.intervalMs ?? 100,
      window: options.window ?? 10,
      storedTimeoutMs: options.storedTimeoutMs ?? 10_000,
    });
    await box.connect();
    box.producer = setInterval(() => box.produce(), box.options.intervalMs);
    box.sweeper = setInterval(() => box.resendUnconfirmed(), 500);
    return box;
  }

  /** Messages made and not confirmed stored yet. */
  get spooled(): number {
    return this.spool.size;
  }

  /** Stops making messages, waits until the spool is empty (every message confirmed), disconnects. */
  async finish(timeoutMs = 60_000): Promise<void> {
    clearInterval(this.producer);
    await waitFor(`${this.deviceId} sent its whole spool`, () => this.spool.size === 0, {
      timeoutMs,
      intervalMs: 100,
    });
    this.stopped = true;
    clearInterval(this.sweeper);
    await this.box?.close();
  }

  /** Drops everything at once (a test that failed). */
  async abort(): Promise<void> {
    clearInterval(this.producer);
    clearInterval(this.sweeper);
    this.stopped = true;
    await this.box?.drop().catch(() => undefined);
  }

  private produce(): void {
    const seq = this.nextSeq++;
    this.sent.push(seq);
    this.spool.set(seq, { seq, ts: Date.now() });
    this.pump();
  }

  /** Every id up to this one is confirmed (the spool's `acked`). */
  private get confirmedUpTo(): number {
    // Map keys iterate in insertion order: the oldest record still spooled.
    for (const seq of this.spool.keys()) return seq - 1;
    return this.nextSeq - 1;
  }

  private pump(): void {
    const box = this.box;
    if (!box?.connected) return;
    for (const entry of this.spool.values()) {
      if (this.inFlight.size >= this.options.window) return;
      if (!this.inFlight.has(entry.seq)) this.send(box, entry);
    }
  }

  private send(box: SimulatedBox, entry: Spooled): void {
    const generation = this.generation;
    this.inFlight.set(entry.seq, undefined);
    const spool = {
      epoch: this.epoch,
      first: entry.seq,
      last: entry.seq,
      acked: this.confirmedUpTo,
      dropped: 0,
    };
    box
      .publish(
        'telemetry',
        { samples: [{ ts: entry.ts, values: { 'fault.seq': entry.seq } }], spool },
        { seq: entry.seq, ts: entry.ts },
      )
      .then(
        () => {
          this.pubacked.add(entry.seq);
          if (generation === this.generation && this.inFlight.has(entry.seq))
            this.inFlight.set(entry.seq, Date.now());
        },
        () => {
          this.refusals += 1;
          // Kept in the spool; this connection is given up and the message goes again on the next.
          if (generation === this.generation) void this.reconnect();
        },
      );
  }

  private stored(message: StoredMessage): void {
    if (message.epoch !== this.epoch) return;
    for (const [first, last] of message.ranges) {
      for (let seq = first; seq <= last; seq++) {
        if (!this.spool.delete(seq)) continue;
        this.acked.add(seq);
        this.inFlight.delete(seq);
      }
    }
    this.pump();
  }

  /** Acknowledged by the broker and never confirmed: sent again, as the device agent does after its timeout. */
  private resendUnconfirmed(): void {
    const box = this.box;
    if (!box?.connected) return;
    const now = Date.now();
    for (const [seq, pubackedAt] of this.inFlight) {
      const entry = this.spool.get(seq);
      if (pubackedAt === undefined || !entry || now - pubackedAt < this.options.storedTimeoutMs) continue;
      this.unconfirmedResends += 1;
      this.send(box, entry);
    }
  }

  private async connect(): Promise<void> {
    const box = await SimulatedBox.connect({
      url: this.url,
      deviceId: this.deviceId,
      password: this.password,
      lastWill: false,
      mqtt: { connectTimeout: 2_000 },
      onError: () => undefined,
      onStored: (message) => this.stored(message),
    });
    await box.subscribe();
    this.generation += 1;
    this.inFlight.clear();
    this.box = box;
    box.client.on('close', () => void this.reconnect());
    box.client.on('error', () => undefined);
    this.pump();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting || this.stopped) return;
    this.reconnecting = true;
    this.generation += 1;
    this.inFlight.clear();
    const old = this.box;
    this.box = undefined;
    await old?.drop().catch(() => undefined);
    try {
      for (;;) {
        if (this.stopped) return;
        try {
          await this.connect();
          this.reconnects += 1;
          return;
        } catch {
          await sleep(300);
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }
}

/** What the fleet stored of each box, against what the box sent and was acknowledged. */
export interface StoredCount {
  deviceId: string;
  sent: number;
  stored: number;
  /** Confirmed stored (deleted by the box) and not stored: the promise broken. */
  missing: number[];
  /** Sent (at all) and not stored. */
  unstored: number[];
  /** Stored more than once. */
  duplicated: number[];
}

/** Counts, per box, every sequence number sent against the samples the fleet's API returns. */
export async function countStored(
  boxes: SpoolingBox[],
  storedSeqs: (deviceId: string) => Promise<number[]>,
): Promise<StoredCount[]> {
  return Promise.all(
    boxes.map(async (box) => {
      const stored = await storedSeqs(box.deviceId);
      const seen = new Set<number>();
      const duplicated: number[] = [];
      for (const seq of stored) {
        if (seen.has(seq)) duplicated.push(seq);
        seen.add(seq);
      }
      return {
        deviceId: box.deviceId,
        sent: box.sent.length,
        stored: seen.size,
        missing: [...box.acked].filter((seq) => !seen.has(seq)),
        unstored: box.sent.filter((seq) => !seen.has(seq)),
        duplicated,
      };
    }),
  );
}

/**
 * `countStored` once nothing is unstored, or as it stands after `timeoutMs`: a message still in a box's
 * spool may be on its way.
 */
export async function countStoredWhenSettled(
  boxes: SpoolingBox[],
  storedSeqs: (deviceId: string) => Promise<number[]>,
  {
    timeoutMs = 30_000,
    settled = (counts: StoredCount[]) => counts.every((count) => count.unstored.length === 0),
  }: { timeoutMs?: number; settled?: (counts: StoredCount[]) => boolean } = {},
): Promise<StoredCount[]> {
  let counts: StoredCount[] = [];
  await waitFor(
    'every message sent is stored',
    async () => {
      counts = await countStored(boxes, storedSeqs);
      return settled(counts);
    },
    { timeoutMs, intervalMs: 500 },
  ).catch(() => undefined);
  return counts;
}

/** `[3, 4, 5, 9]` as `3-5,9`. */
function ranges(seqs: number[]): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** One line per box that lost or doubled anything (none when the promise held), for a readable failure. */
export function countProblems(counts: StoredCount[]): string[] {
  return counts
    .filter((count) => count.missing.length + count.unstored.length + count.duplicated.length > 0)
    .map(
      (count) =>
        `${count.deviceId}: sent ${count.sent}, stored ${count.stored}; acknowledged and missing ` +
        `[${ranges(count.missing)}], not stored [${ranges(count.unstored)}], twice [${ranges(count.duplicated)}]`,
    );
}
