import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../support/platform.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** What the fleet service leaves on disk and what it says about where it listens (docs/operations.md). */
describe('data files and listen addresses', () => {
  // The log lives outside the data dir, so the service itself creates the data dir.
  const logDir = mkdtempSync(join(tmpdir(), 'agentbox-e2e-log-'));
  const logFile = join(logDir, 'fleet.log');
  const platform = new Platform(
    { AGENTBOX_HTTP_HOST: '0.0.0.0', AGENTBOX_MQTT_HOST: '127.0.0.1' },
    { fleetLogFile: logFile },
  );
  const files = ['fleet.sqlite', 'fleet.sqlite-wal', 'fleet.sqlite-shm', 'jwt-secret', 'secrets.key'];

  beforeAll(() => platform.start());

  afterAll(async () => {
    await platform.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('keeps the database and secrets readable by the service user only, in a 0700 data dir', async () => {
    // A write, so SQLite has its WAL files.
    await platform.api.createClaimToken();
    expect(modeOf(platform.dataDir)).toBe('700');
    for (const file of files) {
      const path = join(platform.dataDir, file);
      expect({ file, exists: existsSync(path) }).toEqual({ file, exists: true });
      expect({ file, mode: modeOf(path) }).toEqual({ file, mode: '600' });
    }
  });

  it('takes group and other access away from files an earlier version left readable', async () => {
    await platform.fleet.kill('SIGTERM');
    for (const file of files) {
      const path = join(platform.dataDir, file);
      if (existsSync(path)) chmodSync(path, 0o644);
    }
    await platform.start({ httpPort: platform.fleet.httpPort, mqttPort: platform.fleet.mqttPort });
    await platform.api.createClaimToken();
    for (const file of files) {
      const path = join(platform.dataDir, file);
      if (existsSync(path)) expect({ file, mode: modeOf(path) }).toEqual({ file, mode: '600' });
    }
  });

  it('says where it is bound: every interface for HTTP, loopback for MQTT, as configured', () => {
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain(`fleet service listening on 0.0.0.0:${platform.fleet.httpPort} (every interface`);
    expect(log).toContain(`Embedded MQTT broker listening on 127.0.0.1:${platform.fleet.mqttPort}`);
    expect(log).not.toMatch(/fleet service listening on http:\/\/127\.0\.0\.1/);
  });
});
