import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_DIR } from './support/agent-process.js';

const UNIT = join(APP_DIR, '../../infra/box/agentbox-device-agent.service');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('infra/box/agentbox-device-agent.service', () => {
  const sut = readFileSync(UNIT, 'utf8');

  it('is a notify service with a watchdog that sd_notify from a child may feed', () => {
    expect(sut).toMatch(/^Type=notify$/m);
    expect(sut).toMatch(/^NotifyAccess=all$/m);
    expect(sut).toMatch(/^WatchdogSec=\d+$/m);
    expect(sut).toMatch(/^Restart=always$/m);
    expect(sut).toMatch(/^StateDirectory=agentbox$/m);
    expect(sut).toMatch(/^EnvironmentFile=\/etc\/agentbox\/agent\.env$/m);
    // The exit codes of main.ts that a restart cannot fix.
    expect(sut).toMatch(/^RestartPreventExitStatus=77 78$/m);
  });

  it.skipIf(!hasAnalyze)('passes systemd-analyze verify', () => {
    const result = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
