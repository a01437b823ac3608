import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { DeferredAcks } from './deferred-acks.js';

/** Just what DeferredAcks touches of an mqtt.js client: `_sendPacket`, `close` and the stream. */
function fakeClient() {
  const sent: string[] = [];
  const client = Object.assign(new EventEmitter(), {
    destroyed: 0,
    stream: {
      destroy: () => {
        client.destroyed += 1;
      },
    },
    _sendPacket(packet: { cmd: string; messageId?: number }, cb?: () => void) {
      sent.push(`${packet.cmd} ${packet.messageId ?? ''}`.trim());
      cb?.();
    },
  });
  return { client, sent, mqtt: client as unknown as MqttClient };
}

/** What mqtt.js does for a QoS 1 message once its handlers ran: sends the PUBACK, then reads on. */
function mqttJsAcks(
  client: { _sendPacket: (packet: { cmd: string; messageId?: number }, cb?: () => void) => void },
  messageId: number,
) {
  let readOn = false;
  client._sendPacket({ cmd: 'puback', messageId }, () => {
    readOn = true;
  });
  return readOn;
}

describe('DeferredAcks', () => {
  it('sends each PUBACK once its message is settled, in arrival order, while mqtt.js reads on', () => {
    const { client, sent, mqtt } = fakeClient();
    const sut = new DeferredAcks(mqtt);
    const first = sut.track(1);
    expect(mqttJsAcks(client, 1)).toBe(true);
    const second = sut.track(2);
    expect(mqttJsAcks(client, 2)).toBe(true);
    expect(sent).toEqual([]);

    second('stored');
    expect(sent).toEqual([]);
    first('refused');
    expect(sent).toEqual(['puback 1', 'puback 2']);
    expect(sut.pending).toBe(0);
  });

  it('lets other packets through at once', () => {
    const { client, sent, mqtt } = fakeClient();
    new DeferredAcks(mqtt);
    client._sendPacket({ cmd: 'publish', messageId: 9 });
    expect(mqttJsAcks(client, 9)).toBe(true);
    expect(sent).toEqual(['publish 9', 'puback 9']);
  });

  it('drops the connection for a busy message and forgets what the closed connection did not acknowledge', () => {
    const { client, sent, mqtt } = fakeClient();
    const sut = new DeferredAcks(mqtt);
    const busy = sut.track(1);
    mqttJsAcks(client, 1);
    const later = sut.track(2);
    mqttJsAcks(client, 2);
    busy('busy');
    expect(client.destroyed).toBe(1);
    later('stored');
    expect(sent).toEqual([]);
    client.emit('close');
    expect(sut.pending).toBe(0);
    // The broker delivers both again on the new connection, with the same or new packet ids.
    const again = sut.track(1);
    mqttJsAcks(client, 1);
    again('stored');
    expect(sent).toEqual(['puback 1']);
  });
});
