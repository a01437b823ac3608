import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { waitFor } from '@agentbox/test-support';
import { readBootState, readSlotInfo, writeBootState } from '../boot-state.mjs';
import { APP_DIR, TestBox, hasAnalyze } from './support/box.js';

const SCRIPT = join(APP_DIR, '../../infra/box/install.sh');
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

describe('infra/box/install.sh', () => {
  const dir = useTempDir('agentbox-install-');
  const at = (...parts: string[]) => join(dir.path, ...parts);
  let paths: { prefix: string; state: string; config: string; units: string };
  const install = (...extra: string[]) =>
    spawnSync(
      'bash',
      [
        SCRIPT,
        '--no-systemd',
        '--prefix',
        paths.prefix,
        '--state-dir',
        paths.state,
        '--config-dir',
        paths.config,
        '--unit-dir',
        paths.units,
        ...extra,
      ],
      { encoding: 'utf8' },
    );

  beforeEach(() => {
    paths = {
      prefix: at('opt'),
      state: at('state'),
      config: at('etc'),
      units: at('units'),
    };
    // A bundle as the release command makes it: package.json + dist/ at the top of a .tar.gz.
    const pkg = at('pkg');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: '@agentbox/device-agent', version: '1.2.3' }),
    );
    writeFileSync(
      join(pkg, 'dist', 'main.js'),
      `require('node:fs').appendFileSync(process.env.TEST_EVENTS, JSON.stringify({ event: 'start', slot: process.env.AGENTBOX_SLOT, pid: process.pid }) + '\\n');\nsetInterval(() => {}, 60000);\n`,
    );
    expect(spawnSync('tar', ['-czf', at('bundle.tar.gz'), '-C', pkg, '.']).status).toBe(0);
    writeFileSync(at('root.json'), JSON.stringify({ signed: { _type: 'root', version: 1 }, signatures: [] }));
  });

  it('lays out a box: launcher, slot a with slot.json, boot.json, pinned root, config and unit', () => {
    const result = install('--bundle', at('bundle.tar.gz'), '--root', at('root.json'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);

    const bootStatePath = join(paths.state, 'boot.json');
    expect(readBootState(bootStatePath)).toEqual({ v: 1, active: 'a', pending: null, last: null });
    expect(readSlotInfo(bootStatePath, 'a')).toMatchObject({ version: '1.2.3' });
    expect(JSON.parse(readFileSync(join(paths.state, 'ota', 'root.json'), 'utf8'))).toMatchObject({
      signed: { version: 1 },
    });
    expect(readFileSync(join(paths.config, 'agent.env'), 'utf8')).toContain('AGENTBOX_FLEET_URL=');
    const unit = readFileSync(join(paths.units, 'agentbox.service'), 'utf8');
    expect(unit).toContain(`ExecStart=/usr/bin/node ${paths.prefix}/launcher/launcher.mjs`);
    expect(unit).toContain(`Environment=AGENTBOX_STATE_DIR=${paths.state}`);
    expect(unit).toContain(`ReadWritePaths=${paths.state}`);
    expect(unit).toContain(`EnvironmentFile=${paths.config}/agent.env`);
    if (hasAnalyze) {
      const verify = spawnSync('systemd-analyze', ['verify', join(paths.units, 'agentbox.service')], {
        encoding: 'utf8',
      });
      expect(verify.stderr).toBe('');
    }
  });

  it('gives a layout the installed launcher runs', async () => {
    expect(install('--bundle', at('bundle.tar.gz'), '--root', at('root.json')).status).toBe(0);
    const box = new TestBox();
    try {
      box.startLauncherAt(join(paths.prefix, 'launcher', 'launcher.mjs'), paths.state);
      await waitFor('slot a started', () => box.starts().some((e) => e.slot === 'a'));
    } finally {
      await box.close();
    }
  });

  it('keeps slots, boot state and the pinned root when run again', () => {
    expect(install('--bundle', at('bundle.tar.gz'), '--root', at('root.json')).status).toBe(0);
    const bootStatePath = join(paths.state, 'boot.json');
    const updated = { v: 1 as const, active: 'b' as const, pending: null, last: null };
    writeBootState(bootStatePath, updated);
    writeFileSync(join(paths.state, 'ota', 'root.json'), '{"signed":{"version":2},"signatures":[]}');

    const again = install('--bundle', at('bundle.tar.gz'), '--root', at('root.json'));
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('keeping the slots');
    expect(readBootState(bootStatePath)).toEqual(updated);
    expect(readFileSync(join(paths.state, 'ota', 'root.json'), 'utf8')).toContain('"version":2');
  });

  it('refuses a first install without a bundle or a root, saying which', () => {
    const noBundle = install('--root', at('root.json'));
    expect(noBundle.status).not.toBe(0);
    expect(noBundle.stderr).toContain('--bundle is required');

    const noRoot = install('--bundle', at('bundle.tar.gz'));
    expect(noRoot.status).not.toBe(0);
    expect(noRoot.stderr).toContain('--root root.json is required');

    writeFileSync(at('bad-root.json'), '{"keys":[]}');
    const badRoot = install('--bundle', at('bundle.tar.gz'), '--root', at('bad-root.json'));
    expect(badRoot.status).not.toBe(0);
    expect(badRoot.stderr).toContain('is not a signed root.json');
  });

  it.skipIf(!hasShellcheck)('passes shellcheck', () => {
    const result = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('parses with bash -n', () => {
    expect(spawnSync('bash', ['-n', SCRIPT]).status).toBe(0);
  });
});
