import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetApi } from '../support/api.js';
import { repoRoot, startFleet, type FleetProcess } from '../support/processes.js';

const run = promisify(execFile);
const BOXES = 20;

/** The command docs/operations.md gives for load-testing a deployment, run as written against a real service. */
describe('npm run sim (the fleet simulator)', () => {
  let dataDir: string;
  let fleet: FleetProcess;
  let api: FleetApi;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'agentbox-e2e-sim-'));
    fleet = await startFleet({ dataDir });
    api = new FleetApi(fleet.url);
    await api.login('admin', fleet.adminPassword);
  });

  afterAll(async () => {
    await fleet?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('enrols and connects the boxes it is asked for, and their telemetry is stored', async () => {
    const claimToken = await api.createClaimToken({ maxUses: BOXES });
    const args = ['--boxes', String(BOXES), '--url', fleet.url, '--claim-token', claimToken];
    const { stdout } = await run(
      'npm',
      ['run', 'sim', '--', ...args, '--interval', '0.5', '--duration', '4'],
      {
        cwd: repoRoot,
      },
    );
    expect(stdout).toContain(`${BOXES} boxes connected`);
    expect(stdout).toMatch(new RegExp(`${BOXES} boxes enrolled, [1-9]\\d* samples acknowledged, 0 not`));

    const devices = await api.devices();
    expect(devices).toHaveLength(BOXES);
    const stored = await Promise.all(devices.map(async (device) => (await api.telemetry(device.id)).length));
    expect(stored.every((count) => count > 0)).toBe(true);
  });

  it('refuses a call without a claim token and says what it needs', async () => {
    const failure = await run('npm', ['run', 'sim', '--', '--boxes', '1', '--url', fleet.url], {
      cwd: repoRoot,
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failure ? failure.code : 0).toBe(2);
    expect('stderr' in failure ? failure.stderr : '').toContain('--url and --claim-token are required');
  });
});
