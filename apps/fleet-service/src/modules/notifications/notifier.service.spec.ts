import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import { ChannelRow, DeliveryRow } from './channel.entity.js';
import { ChannelsService } from './channels.service.js';
import { NotifierService } from './notifier.service.js';
import { testNotification } from './test-notification.js';

describe('NotifierService retries', () => {
  const db = useTestDatabase({}, [ChannelRow, DeliveryRow]);
  /** The statuses the receiver answers, one per request; the last one repeats. */
  let answers: number[] = [];
  let requests = 0;
  let server: Server;
  let base = '';

  beforeEach(async () => {
    requests = 0;
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const status = answers[Math.min(requests, answers.length - 1)] ?? 200;
        requests += 1;
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Sends one alert notification to a webhook channel and returns its stored delivery. */
  async function deliver(statuses: number[]) {
    answers = statuses;
    const channels = new ChannelsService(
      db.dataSource.getRepository(ChannelRow),
      new SecretCipher(randomBytes(32)),
    );
    const notifier = new NotifierService(db.dataSource.getRepository(DeliveryRow), channels, db.config);
    notifier.retryDelaysMs = [10, 10];
    const { id } = await channels.create({ name: 'Hook', type: 'webhook', config: { url: `${base}/hook` } });
    const notification = testNotification(new Date());
    notifier.notify([
      { channelIds: [id], alertId: 'alert-1', notification: { ...notification, event: 'firing' } },
    ]);
    await notifier.settled();
    const rows = await db.dataSource.getRepository(DeliveryRow).findBy({ channelId: id });
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  it('retries a server error until the receiver takes the notification', async () => {
    const delivery = await deliver([500, 503, 200]);
    expect(requests).toBe(3);
    expect(delivery).toMatchObject({
      ok: 1,
      statusCode: 200,
      attempts: 3,
      kind: 'firing',
      alertId: 'alert-1',
    });
  });

  it('gives up after the last retry and records the failure', async () => {
    const delivery = await deliver([500]);
    expect(requests).toBe(3);
    expect(delivery).toMatchObject({ ok: 0, statusCode: 500, attempts: 3 });
    expect(delivery.error).toMatch(/^HTTP 500/);
  });

  it('retries a 429 but not another client error', async () => {
    expect(await deliver([429, 200])).toMatchObject({ ok: 1, attempts: 2 });
    requests = 0;
    expect(await deliver([404])).toMatchObject({ ok: 0, statusCode: 404, attempts: 1 });
    expect(requests).toBe(1);
  });

  it('sends every alert of a batch to each of its channels once, and skips a channel it cannot open', async () => {
    answers = [200];
    const repo = db.dataSource.getRepository(ChannelRow);
    const channels = new ChannelsService(repo, new SecretCipher(randomBytes(32)));
    const notifier = new NotifierService(db.dataSource.getRepository(DeliveryRow), channels, db.config);
    const a = await channels.create({ name: 'A', type: 'webhook', config: { url: `${base}/a` } });
    const b = await channels.create({ name: 'B', type: 'webhook', config: { url: `${base}/b` } });
    // Sealed under a key this service does not have.
    const lost = await new ChannelsService(repo, new SecretCipher(randomBytes(32))).create({
      name: 'Lost',
      type: 'webhook',
      config: { url: `${base}/lost` },
    });
    const firing = { ...testNotification(new Date()), event: 'firing' as const };
    notifier.notify([
      { channelIds: [a.id, a.id, lost.id], alertId: 'alert-1', notification: firing },
      { channelIds: [a.id, b.id], alertId: 'alert-2', notification: firing },
    ]);
    await notifier.settled();
    const rows = await db.dataSource.getRepository(DeliveryRow).find();
    expect(rows.map((row) => `${row.alertId} ${row.channelId}`).sort()).toEqual(
      [`alert-1 ${a.id}`, `alert-2 ${a.id}`, `alert-2 ${b.id}`].sort(),
    );
    expect(requests).toBe(3);
  });
});
