import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { LiveEventSchema, type LiveEvent } from '@agentbox/schemas';
import type { StoredTelemetry } from './live-events.service.js';

/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more (docs: SQL Commands, NOTIFY); a batch is cut
 * into notifications below that, each `<message id>:<index>:<count>:<piece>`.
 */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_900;

const StoredTelemetrySchema = z.object({
  deviceId: z.string().min(1).max(64),
  fromSeq: z.number().int().nonnegative(),
  toSeq: z.number().int().nonnegative(),
  fromTs: z.number().int().nonnegative(),
  toTs: z.number().int().nonnegative(),
});

const LiveBatchSchema = z
  .object({
    /** The replica that published the batch: it delivered the events to its own streams already. */
    origin: z.string().min(1).max(100),
    events: z.array(LiveEventSchema),
    /** Telemetry messages the origin stored: read back from the database by replicas being watched. */
    telemetry: z.array(StoredTelemetrySchema).optional(),
  })
  .refine((batch) => batch.events.length > 0 || (batch.telemetry?.length ?? 0) > 0, 'empty batch');
export type LiveBatch = z.infer<typeof LiveBatchSchema>;

/** JSON with every non-ASCII character escaped, so one character is one byte and pieces cut anywhere. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The notifications that carry `events` (and stored `telemetry`) from `origin`, in order. */
export function encodeLiveBatch(
  origin: string,
  events: LiveEvent[],
  maxPayloadBytes = MAX_NOTIFY_PAYLOAD_BYTES,
  telemetry: StoredTelemetry[] = [],
): string[] {
  const batch: LiveBatch = telemetry.length > 0 ? { origin, events, telemetry } : { origin, events };
  const json = asciiJson(batch);
  const messageId = randomUUID();
  // The header is at most `<36>:<6>:<6>:`; the rest of each notification is a piece of the JSON.
  const pieceSize = maxPayloadBytes - 51;
  const count = Math.max(1, Math.ceil(json.length / pieceSize));
  const out: string[] = [];
  for (let index = 0; index < count; index++) {
    out.push(`${messageId}:${index}:${count}:${json.slice(index * pieceSize, (index + 1) * pieceSize)}`);
  }
  return out;
}

export type AssembleResult =
  | { kind: 'partial' }
  | { kind: 'batch'; batch: LiveBatch }
  | { kind: 'rejected'; reason: 'malformed' | 'invalid-batch'; detail: string };

const HEADER = /^([0-9a-f-]{36}):(\d{1,6}):(\d{1,6}):/;

/**
 * Puts notifications back together. Pieces of one batch arrive together and in order (they are sent in
 * one transaction); an incomplete batch is dropped after `staleMs`, whatever the reason it stayed so.
 */
export class LiveBatchAssembler {
  private readonly partial = new Map<string, { pieces: string[]; count: number; since: number }>();

  constructor(
    private readonly staleMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  push(payload: string): AssembleResult {
    this.dropStale();
    const header = HEADER.exec(payload);
    if (!header) return { kind: 'rejected', reason: 'malformed', detail: 'no batch header' };
    const [matched, messageId = '', indexText = '', countText = ''] = header;
    const index = Number(indexText);
    const count = Number(countText);
    if (count < 1 || index >= count) {
      return { kind: 'rejected', reason: 'malformed', detail: `piece ${index} of ${count}` };
    }
    const piece = payload.slice(matched.length);
    let json: string;
    if (count === 1) {
      json = piece;
    } else {
      const entry = this.partial.get(messageId) ?? { pieces: [], count, since: this.now() };
      if (entry.count !== count || index !== entry.pieces.length) {
        this.partial.delete(messageId);
        return { kind: 'rejected', reason: 'malformed', detail: `piece ${index} of ${count} out of order` };
      }
      entry.pieces.push(piece);
      if (entry.pieces.length < count) {
        this.partial.set(messageId, entry);
        return { kind: 'partial' };
      }
      this.partial.delete(messageId);
      json = entry.pieces.join('');
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      return { kind: 'rejected', reason: 'malformed', detail: (error as Error).message };
    }
    const parsed = LiveBatchSchema.safeParse(value);
    if (!parsed.success) {
      return {
        kind: 'rejected',
        reason: 'invalid-batch',
        detail: z.prettifyError(parsed.error).slice(0, 300),
      };
    }
    return { kind: 'batch', batch: parsed.data };
  }

  /** Batches waiting for more pieces. */
  pending(): number {
    return this.partial.size;
  }

  private dropStale(): void {
    const cutoff = this.now() - this.staleMs;
    for (const [id, entry] of this.partial) if (entry.since < cutoff) this.partial.delete(id);
  }
}
