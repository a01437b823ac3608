import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * Opens a raw MQTT 5 connection and resolves with the client and the CONNACK reason code (0 = accepted,
 * -1 = closed without one). The client is the caller's to end, whatever the code.
 */
export async function connectRaw(
  url: string,
  options: IClientOptions,
): Promise<{ client: MqttClient; code: number }> {
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...options,
  });
  const code = await new Promise<number>((resolve) => {
    client.once('connect', () => resolve(0));
    client.once('error', (error) => {
      const reasonCode = (error as Partial<mqtt.ErrorWithReasonCode>).code;
      resolve(typeof reasonCode === 'number' ? reasonCode : -1);
    });
    client.once('close', () => resolve(-1));
  });
  return { client, code };
}

/** Tries to connect and returns the CONNACK reason code of the refusal (0 when accepted); ends the client. */
export async function connectReasonCode(url: string, options: IClientOptions): Promise<number> {
  const { client, code } = await connectRaw(url, options);
  await client.endAsync(code !== 0);
  return code;
}

/** SUBACK reason codes of a QoS 1 subscription: the granted QoS, or the refusal code, per filter. */
export async function subscribeReasonCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    return granted.map((grant) => grant.qos);
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw error;
  }
}
