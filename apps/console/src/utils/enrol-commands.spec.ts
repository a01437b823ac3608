import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INSTALLED_AGENT_ENV, installedEnrolCommand, repoEnrolCommand } from './enrol-commands';

const EXAMPLE = resolve(__dirname, '../../../../infra/box/agent.env.example');

/** The values a shell reading `file` as systemd's EnvironmentFile would (KEY=value lines). */
function envOf(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

describe('the Add box commands', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('for an installed box: sets the URL and token in agent.env, whatever they hold, and restarts it', () => {
    for (const [url, token] of [
      ['http://192.168.1.20:8080', 'ct_AbC-123_xyz'],
      ["https://fleet.example.com/a&b|c\\d'e", "odd&|\\'token"],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'agentbox-enrol-'));
      dirs.push(dir);
      const file = join(dir, 'agent.env');
      copyFileSync(EXAMPLE, file);
      const command = installedEnrolCommand(url, token);
      expect(command).toContain(INSTALLED_AGENT_ENV);
      expect(command.endsWith('&& sudo systemctl restart agentbox')).toBe(true);
      // What a person pastes, with sudo and the restart left out and the file moved to a temp copy.
      const sed = command
        .replace(/^sudo /, '')
        .replace(/ && sudo systemctl restart agentbox$/, '')
        .replace(INSTALLED_AGENT_ENV, file);
      execFileSync('sh', ['-c', sed]);
      const env = envOf(file);
      expect(env.AGENTBOX_FLEET_URL).toBe(url);
      expect(env.AGENTBOX_CLAIM_TOKEN).toBe(token);
      // Nothing else changed: every other line of the example is as it was.
      const before = readFileSync(EXAMPLE, 'utf8').split('\n');
      const after = readFileSync(file, 'utf8').split('\n');
      expect(after.filter((line, i) => line !== before[i])).toHaveLength(2);
    }
  });

  it('from a checkout: runs npm run agent with a state dir of its own', () => {
    expect(repoEnrolCommand('http://127.0.0.1:8080', 'ct_1')).toBe(
      'AGENTBOX_FLEET_URL=http://127.0.0.1:8080 AGENTBOX_CLAIM_TOKEN=ct_1 AGENTBOX_STATE_DIR=./data/box-2 npm run agent',
    );
  });
});
