import { stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { BoxException, BoxExceptionCode } from '../../common/box-exception.js';
import { BoxConfig } from '../../config/box-config.js';
import { CREDENTIALS_FILE } from './credentials.store.js';
import { IdentityService } from './identity.service.js';

const CLAIM = 'claim-token-0123456789';

describe('IdentityService', () => {
  const base = useTempDir('agentbox-identity-');
  let dir: string;
  let server: Server;
  let fleetUrl: string;
  const requests: { hardwareId: string; name?: string }[] = [];
  let failuresLeft = 0;

  beforeEach(async () => {
    dir = join(base.path, 'state');
    requests.length = 0;
    failuresLeft = 0;
    // A real provisioning endpoint: 503 for the first `failuresLeft` calls, then credentials.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { claimToken: string; hardwareId: string; name?: string };
        res.setHeader('content-type', 'application/json');
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          res.writeHead(503).end(JSON.stringify({ statusCode: 503, code: 'UNAVAILABLE', message: 'busy' }));
          return;
        }
        if (parsed.claimToken !== CLAIM) {
          res
            .writeHead(401)
            .end(JSON.stringify({ statusCode: 401, code: 'CLAIM_TOKEN_EXPIRED', message: 'expired' }));
          return;
        }
        requests.push({ hardwareId: parsed.hardwareId, name: parsed.name });
        res.writeHead(201).end(
          JSON.stringify({
            deviceId: 'box-7',
            mqtt: {
              url: 'mqtt://127.0.0.1:1883',
              username: 'box-7',
              password: `pw-${requests.length}-0123456789abcdef`,
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fleetUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const build = (env: Record<string, string>) =>
    new IdentityService(
      BoxConfig.fromEnv({ AGENTBOX_STATE_DIR: dir, AGENTBOX_DEVICE_NAME: 'lab-box', ...env }),
    );

  it('enrolls on first boot through 5xx retries and stores the credentials 0600 in a 0700 dir', async () => {
    failuresLeft = 2;
    const sut = build({ AGENTBOX_FLEET_URL: fleetUrl, AGENTBOX_CLAIM_TOKEN: CLAIM });
    const credentials = await sut.ensureEnrolled();
    expect(credentials.deviceId).toBe('box-7');
    expect(requests).toEqual([{ hardwareId: credentials.hardwareId, name: 'lab-box' }]);
    expect((await stat(join(dir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('reuses stored credentials on later boots without a claim token or fleet URL', async () => {
    await build({ AGENTBOX_FLEET_URL: fleetUrl, AGENTBOX_CLAIM_TOKEN: CLAIM }).ensureEnrolled();
    const sut = build({});
    expect((await sut.ensureEnrolled()).deviceId).toBe('box-7');
    expect(requests).toHaveLength(1);
  });

  it('re-enrolls with the same hardware id and stores the rotated secret', async () => {
    const sut = build({ AGENTBOX_FLEET_URL: fleetUrl, AGENTBOX_CLAIM_TOKEN: CLAIM });
    const first = await sut.ensureEnrolled();
    const second = await sut.enroll();
    expect(second.hardwareId).toBe(first.hardwareId);
    expect(second.mqtt.password).not.toBe(first.mqtt.password);
    expect((await build({}).ensureEnrolled()).mqtt.password).toBe(second.mqtt.password);
  });

  it('fails with CLAIM_REJECTED carrying the server code on 401', async () => {
    const sut = build({ AGENTBOX_FLEET_URL: fleetUrl, AGENTBOX_CLAIM_TOKEN: 'some-other-token-0000' });
    const error = await sut.ensureEnrolled().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BoxException);
    expect((error as BoxException).code).toBe(BoxExceptionCode.CLAIM_REJECTED);
    expect((error as BoxException).message).toContain('CLAIM_TOKEN_EXPIRED');
  });

  it('names the missing variable on first boot', async () => {
    await expect(build({}).ensureEnrolled()).rejects.toMatchObject({
      code: BoxExceptionCode.FLEET_URL_MISSING,
    });
    await expect(build({ AGENTBOX_FLEET_URL: fleetUrl }).ensureEnrolled()).rejects.toMatchObject({
      code: BoxExceptionCode.CLAIM_TOKEN_MISSING,
    });
  });

  it('enrolls again over damaged credentials when a claim token is set, and refuses clearly when not', async () => {
    await build({ AGENTBOX_FLEET_URL: fleetUrl, AGENTBOX_CLAIM_TOKEN: CLAIM }).ensureEnrolled();
    await writeFile(join(dir, CREDENTIALS_FILE), '{"deviceId": ');
    await expect(build({}).ensureEnrolled()).rejects.toMatchObject({
      code: BoxExceptionCode.CREDENTIALS_UNREADABLE,
    });
    const repaired = await build({
      AGENTBOX_FLEET_URL: fleetUrl,
      AGENTBOX_CLAIM_TOKEN: CLAIM,
    }).ensureEnrolled();
    expect(repaired.deviceId).toBe('box-7');
    expect(requests).toHaveLength(2);
  });
});
