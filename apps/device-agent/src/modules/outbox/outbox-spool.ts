import { Spool } from '@agentbox/spool';

/** What the outbox needs from the on-disk spool (`Spool` of @agentbox/spool). */
export type OutboxSpool = Pick<Spool, 'append' | 'peek' | 'ack' | 'stats' | 'close' | 'epoch'>;

export function openSpool(dir: string, maxBytes: number): Promise<OutboxSpool> {
  return Spool.open({ dir, maxBytes, fsync: true });
}
