import { randomBytes } from 'node:crypto';
import type { ProvisionResponse } from '@agentbox/schemas';
import { provisionBox, SimulatedBox } from '@agentbox/test-support';

/**
 * Enrols `count` boxes with one claim token (`POST /api/v1/provision`), `concurrency` at a time, each with a
 * random hardware id starting with `prefix`.
 */
export async function provisionBoxes(
  fleetUrl: string,
  claimToken: string,
  count: number,
  { prefix, concurrency }: { prefix: string; concurrency: number },
): Promise<ProvisionResponse[]> {
  const enrolled: ProvisionResponse[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      enrolled.push(
        await provisionBox(fleetUrl, {
          claimToken,
          hardwareId: `${prefix}-${randomBytes(6).toString('hex')}`,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return enrolled;
}

/**
 * Connects a simulated box that behaves like the device agent across outages: it goes online, and after a
 * dropped link or a refused CONNECT (server busy, not ready yet) it retries on its own period of 1 to 4 s,
 * so a fleet's retries spread out, and goes online again on every reconnect; with `birth`, the first time
 * also with a birth message.
 */
export async function connectRetryingBox(
  url: string,
  deviceId: string,
  password: string,
  { birth = false }: { birth?: boolean } = {},
): Promise<SimulatedBox> {
  const box = await SimulatedBox.connect({
    url,
    deviceId,
    password,
    mqtt: {
      reconnectPeriod: 1_000 + Math.floor(Math.random() * 3_000),
      reconnectOnConnackError: true,
      connectTimeout: 30_000,
    },
  });
  await box.goOnline(birth ? { birth: {} } : {});
  box.client.on('connect', () => {
    box.goOnline().catch(() => undefined);
  });
  return box;
}

/** Boxes connected by `connectAll`, and how many of them are connected now. */
export interface ConnectedFleet {
  boxes: SimulatedBox[];
  connected(): number;
}

/** Opens every box, `inFlight` at a time (connectRetryingBox: online on every connect, retries spread out). */
export async function connectAll(
  url: string,
  credentials: ReadonlyArray<{ deviceId: string; password: string }>,
  inFlight: number,
): Promise<ConnectedFleet> {
  const boxes: SimulatedBox[] = [];
  let next = 0;
  const worker = async () => {
    while (next < credentials.length) {
      const { deviceId, password } = credentials[next++]!;
      boxes.push(await connectRetryingBox(url, deviceId, password));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { boxes, connected: () => boxes.filter((box) => box.connected).length };
}

export async function closeAll(fleet: ConnectedFleet): Promise<void> {
  await Promise.all(fleet.boxes.map((box) => box.drop().catch(() => undefined)));
}
