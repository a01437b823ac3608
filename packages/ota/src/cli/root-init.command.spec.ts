import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseWorkspace, cli } from '../../test/release-cli-workspace.js';

describe('agentbox-release root init', () => {
  let ws: ReleaseWorkspace;
  beforeAll(async () => {
    ws = await ReleaseWorkspace.create();
    await ws.keys('root', 'release');
  });
  afterAll(() => ws.remove());

  it('creates root v1, signed by the root keys', async () => {
    expect((await cli(...ws.rootInitArgs())).code).toBe(0);
    const v1 = JSON.parse(await readFile(ws.at('root.json'), 'utf8'));
    expect(v1.signed).toMatchObject({ type: 'root', version: 1, expires: '2031-01-01T00:00:00.000Z' });
  });
});
