import type { Settle } from '../../common/settlement.js';

/** A message a box published under its `up/` subtree. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /** Date.now() when the message reached this process (for ingest latency). */
  receivedAt: number;
  /**
   * Ingest calls it once it knows what became of the message. On the embedded broker the box's PUBACK
   * waits for it (docs/protocol.md, "Acknowledged means stored"); an external broker's messages are
   * acknowledged by the MQTT client on receipt.
   */
  settle: Settle;
}
