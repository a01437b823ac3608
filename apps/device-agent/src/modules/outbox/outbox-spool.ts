import { Spool } from '@agentbox/telemetry';

/** What the outbox needs from the on-disk spool (`Spool` of @agentbox/telemetry). */
export type OutboxSpool = Pick<Spool, 'append' | 'peek' | 'ack' | 'stats' | 'close'>;

export function openSpool(dir: string, maxBytes: number): Promise<OutboxSpool> {
  return Spool.open({ dir, maxBytes, fsync: true });
}
