import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cli, useReleaseWorkspace } from '../../test/release-cli-workspace.js';

describe('agentbox-release build', () => {
  const ws = useReleaseWorkspace({ keys: ['root', 'release', 'release2'], roots: 1 });

  it('builds the bundle and its signed manifest', async () => {
    const built = await cli(...ws.buildArgs('1.5.0'));
    expect(built.err).toBe('');
    expect(built.code).toBe(0);
    const signed = JSON.parse(await readFile(ws.manifest('1.5.0'), 'utf8'));
    expect(signed.signed).toMatchObject({
      version: '1.5.0',
      channel: 'stable',
      notes: 'Faster reconnects.\n',
      compatibility: { arch: ['x64', 'arm64'], minCurrentVersion: '1.0.0' },
      artifact: { name: 'agentbox-device-agent-1.5.0.tar.gz', size: (await stat(ws.bundle('1.5.0'))).size },
    });
  });

  it('refuses to build with a key the root does not list', async () => {
    const sut = await cli(
      'build',
      '--version',
      '1.5.1',
      '--key',
      ws.at('keys', 'release2.pem'),
      '--root',
      ws.at('root.json'),
      '--agent-dir',
      ws.at('repo', 'agent'),
      '--out',
      ws.at('out'),
    );
    expect(sut.code).toBe(1);
    expect(sut.err).toContain('which the trusted root does not list');
    expect(existsSync(ws.manifest('1.5.1'))).toBe(false);
  });
});
