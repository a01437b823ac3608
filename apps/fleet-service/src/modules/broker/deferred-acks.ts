import type { MqttClient } from 'mqtt';
import { settleNothing, type Settle, type Settlement } from '../../common/settlement.js';

/** mqtt-packet's PUBACK as mqtt.js hands it to its private `_sendPacket`. */
interface PubackPacket {
  cmd: 'puback';
  messageId?: number;
  reasonCode?: number;
}

type SendPacket = (packet: { cmd: string }, cb?: (error?: Error) => void, ...rest: unknown[]) => void;

interface Delivery {
  messageId: number;
  settlement: Settlement | undefined;
  puback: PubackPacket | undefined;
}

/**
 * Holds back the PUBACKs of the fleet service's own MQTT client (external broker) until ingest has
 * settled each message, then sends them in the order the messages came (MQTT-4.6.0-2), so the broker
 * keeps a message in this replica's session until it is committed (docs/protocol.md, "Acknowledged
 * means stored"). mqtt.js acknowledges a QoS 1 message as soon as its `message` handlers return and
 * reads the next packet only after that PUBACK is written; its PUBACK is therefore taken from its
 * private `_sendPacket` and written later, while its reading goes on.
 *
 * A `busy` message is never acknowledged: the connection is dropped instead, and the broker delivers
 * every unacknowledged message of the session again after mqtt.js reconnects (MQTT-4.4.0-1). Only a
 * stopping service settles `busy` here; a full ingest buffer makes BrokerService offer the message again.
 */
export class DeferredAcks {
  private queue: Delivery[] = [];
  private readonly send: SendPacket;

  constructor(private readonly client: MqttClient) {
    const target = client as unknown as { _sendPacket: SendPacket };
    this.send = target._sendPacket.bind(client);
    target._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback' && this.hold(packet as PubackPacket)) {
        cb?.();
        return;
      }
      this.send(packet, cb, ...rest);
    };
    // A new connection starts a new count: what was not acknowledged comes again with DUP set.
    client.on('close', () => {
      this.queue = [];
    });
  }

  /** PUBACKs waiting for their messages (and for the messages before them). */
  get pending(): number {
    return this.queue.length;
  }

  /** Called as a QoS 1 message arrives, before mqtt.js would acknowledge it. */
  track(messageId: number | undefined): Settle {
    if (messageId === undefined) return settleNothing;
    const delivery: Delivery = { messageId, settlement: undefined, puback: undefined };
    const queue = this.queue;
    queue.push(delivery);
    return (settlement) => {
      if (delivery.settlement !== undefined || queue !== this.queue) return;
      delivery.settlement = settlement;
      if (settlement === 'busy') {
        this.client.stream?.destroy();
        return;
      }
      this.release();
    };
  }

  private hold(puback: PubackPacket): boolean {
    // mqtt.js acknowledges a message right after its handlers ran: it is nearly always the last one queued.
    let delivery: Delivery | undefined;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const entry = this.queue[i]!;
      if (entry.messageId === puback.messageId && !entry.puback) {
        delivery = entry;
        break;
      }
    }
    if (!delivery) return false;
    delivery.puback = puback;
    this.release();
    return true;
  }

  private release(): void {
    let released = 0;
    while (released < this.queue.length) {
      const head = this.queue[released]!;
      if (!head.puback || (head.settlement !== 'stored' && head.settlement !== 'refused')) break;
      released += 1;
    }
    if (released === 0) return;
    const ready = this.queue.splice(0, released);
    // A committed batch releases many PUBACKs at once: one write to the socket instead of one each.
    const stream = this.client.stream as { cork?: () => void; uncork?: () => void } | undefined;
    stream?.cork?.();
    for (const delivery of ready) this.send(delivery.puback!);
    if (stream?.uncork) process.nextTick(() => stream.uncork?.());
  }
}
