import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cli, useReleaseWorkspace } from '../../test/release-cli-workspace.js';

describe('agentbox-release root init', () => {
  const ws = useReleaseWorkspace({ keys: ['root', 'release'] });

  it('creates root v1, signed by the root keys', async () => {
    expect((await cli(...ws.rootInitArgs())).code).toBe(0);
    const v1 = JSON.parse(await readFile(ws.at('root.json'), 'utf8'));
    expect(v1.signed).toMatchObject({ type: 'root', version: 1, expires: '2031-01-01T00:00:00.000Z' });
  });
});

describe('agentbox-release root rotate', () => {
  const ws = useReleaseWorkspace({ keys: ['root', 'root2', 'release', 'release2'], roots: 1 });

  it('rotates root v1 only with both key sets signing', async () => {
    const unsigned = await cli(...ws.rootRotateArgs('root2'));
    expect(unsigned.code).toBe(1);
    expect(unsigned.err).toContain('keys of the trusted root v1');
    expect(existsSync(ws.at('root-v2.json'))).toBe(false);
    const sut = await cli(...ws.rootRotateArgs('root', 'root2'));
    expect(sut).toMatchObject({ code: 0 });
    expect(JSON.parse(await readFile(ws.at('root-v2.json'), 'utf8')).signed.version).toBe(2);
  });
});
