import { Spool } from '@agentbox/telemetry';

/** What the outbox needs from the on-disk spool (`Spool` of @agentbox/telemetry). */
export interface OutboxSpool {
  append(data: Buffer | string): Promise<number>;
  peek(limit: number): Promise<{ id: number; data: Buffer }[]>;
  ack(id: number): Promise<void> | void;
  stats(): { records: number; bytes: number; dropped: number; droppedBytes: number };
  close(): Promise<void> | void;
}

export function openSpool(dir: string, maxBytes: number): Promise<OutboxSpool> {
  return Spool.open({ dir, maxBytes, fsync: true });
}
