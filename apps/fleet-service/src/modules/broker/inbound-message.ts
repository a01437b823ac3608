import type { Settle } from '../../common/settlement.js';

/** A message a box published under its `up/` subtree. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /** Date.now() when the message reached this process (for ingest latency). */
  receivedAt: number;
  /**
   * Ingest calls it once it knows what became of the message; its acknowledgement waits for it (docs/protocol.md,
   * "Acknowledged means stored"): the box's PUBACK on the embedded broker, the service client's PUBACK to an
   * external broker (`deferred-acks.ts`).
   */
  settle: Settle;
}
