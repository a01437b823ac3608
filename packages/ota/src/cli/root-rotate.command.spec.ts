import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseWorkspace, cli } from '../../test/release-cli-workspace.js';

describe('agentbox-release root rotate', () => {
  let ws: ReleaseWorkspace;
  beforeAll(async () => {
    ws = await ReleaseWorkspace.create();
    await ws.keys('root', 'root2', 'release', 'release2');
    await ws.rootV1();
  });
  afterAll(() => ws.remove());

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
