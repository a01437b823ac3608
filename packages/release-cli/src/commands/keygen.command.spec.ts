import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cli, useReleaseWorkspace } from '../../test/release-cli-workspace.js';

describe('agentbox-release keygen', () => {
  const ws = useReleaseWorkspace();

  it('generates keys, private ones readable by the owner only, and never overwrites them', async () => {
    for (const name of ['root', 'root2', 'release', 'release2']) {
      const sut = await cli('keygen', '--out', ws.at('keys'), '--name', name);
      expect(sut.code).toBe(0);
      expect(sut.out).toMatch(/^key [0-9a-f]{64}/);
    }
    expect((await stat(ws.at('keys', 'root.pem'))).mode & 0o777).toBe(0o600);
    const again = await cli('keygen', '--out', ws.at('keys'), '--name', 'root');
    expect(again).toMatchObject({ code: 2 });
    expect(again.err).toContain('never overwritten');
  });
});
