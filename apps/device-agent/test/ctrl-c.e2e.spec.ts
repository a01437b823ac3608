import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeFleet, waitFor } from './support/fake-fleet.js';
import { APP_DIR, ensureBuilt } from './support/device-agent-process.js';

/** A box that already stopped on the first signal leaves nothing to signal: that is a clean stop too. */
function signalGroupIfAlive(pid: number): void {
  try {
    process.kill(-pid, 'SIGINT');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The README's `npm run agent` (scripts/agent.mjs), stopped with Ctrl-C as a person would stop it. */
describe('Ctrl-C on `npm run agent`', () => {
  const fleet = new FakeFleet();
  const stateDir = mkdtempSync(join(tmpdir(), 'agentbox-ctrl-c-'));

  beforeAll(async () => {
    ensureBuilt();
    await fleet.start();
  });

  afterAll(async () => {
    await fleet.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('stops cleanly although the terminal signals both the script and the box', async () => {
    // Its own process group, like a shell's foreground job: Ctrl-C is SIGINT to every process in it.
    const child = spawn(process.execPath, [resolve(APP_DIR, '../../scripts/agent.mjs')], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        AGENTBOX_FLEET_URL: fleet.fleetUrl,
        AGENTBOX_CLAIM_TOKEN: fleet.claimToken,
        AGENTBOX_STATE_DIR: stateDir,
        AGENTBOX_WEBHOOK_PORT: '0',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      await waitFor(() => fleet.messages('/up/birth').length > 0, 30_000, 'the box online');
      process.kill(-child.pid!, 'SIGINT');
      // Through npm the box hears it again a few milliseconds later (npm and the script forward it).
      await new Promise((done) => setTimeout(done, 5));
      signalGroupIfAlive(child.pid!);
      expect(await exited).toBe(0);
      expect(output).toContain('SIGINT: stopping');
      expect(output).not.toContain('exiting now');
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
