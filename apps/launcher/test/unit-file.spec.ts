import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_DIR, hasAnalyze } from './support/box.js';

const UNIT = join(APP_DIR, '../../infra/box/agentbox.service');

describe('infra/box/agentbox.service', () => {
  const sut = readFileSync(UNIT, 'utf8');

  it('runs the launcher as a notify service whose watchdog the agent (a child) may feed', () => {
    expect(sut).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/agentbox\/launcher\/launcher\.mjs$/m);
    expect(sut).toMatch(/^Type=notify$/m);
    expect(sut).toMatch(/^NotifyAccess=all$/m);
    expect(sut).toMatch(/^WatchdogSec=\d+$/m);
    // The launcher listens for this one; Node cannot catch the default SIGABRT.
    expect(sut).toMatch(/^WatchdogSignal=SIGUSR2$/m);
    expect(sut).toMatch(/^Restart=always$/m);
    expect(sut).toMatch(/^StateDirectory=agentbox$/m);
    expect(sut).toMatch(/^User=agentbox$/m);
    expect(sut).toMatch(/^EnvironmentFile=\/etc\/agentbox\/agent\.env$/m);
    // The exit codes of the device agent (passed on by the launcher) that a restart cannot fix.
    expect(sut).toMatch(/^RestartPreventExitStatus=77 78$/m);
  });

  it('gives the launcher time to stop the agent before systemd kills everything', () => {
    const stopSec = Number(/^TimeoutStopSec=(\d+)$/m.exec(sut)?.[1]);
    const launcher = readFileSync(join(APP_DIR, 'launcher.mjs'), 'utf8');
    const graceMs = Number(
      /AGENTBOX_LAUNCHER_KILL_GRACE_MS', ([\d_]+)\)/.exec(launcher)?.[1]?.replace(/_/g, ''),
    );
    expect(graceMs).toBeGreaterThan(15_000); // the agent's own clean-stop limit
    expect(stopSec * 1_000).toBeGreaterThan(graceMs);
  });

  it.skipIf(!hasAnalyze)('passes systemd-analyze verify', () => {
    const result = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
