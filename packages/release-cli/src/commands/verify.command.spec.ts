import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cli, useReleaseWorkspace } from '../../test/release-cli-workspace.js';

describe('agentbox-release verify', () => {
  const ws = useReleaseWorkspace({
    keys: ['root', 'root2', 'release', 'release2'],
    roots: 2,
    releases: ['1.5.0'],
  });

  it('verifies a signed release, and refuses what was tampered with', async () => {
    const manifest = ws.manifest('1.5.0');
    const bundle = ws.bundle('1.5.0');
    const signed = JSON.parse(await readFile(manifest, 'utf8'));

    const verify = (...extra: string[]) =>
      cli('verify', '--root', ws.at('root.json'), '--manifest', manifest, '--bundle', bundle, ...extra);
    expect(await verify('--current-version', '1.4.2', '--arch', 'arm64')).toMatchObject({ code: 0 });
    expect((await verify('--current-version', '1.6.0')).err).toContain('refused (downgrade)');
    expect((await verify('--current-version', '0.9.0')).err).toContain('refused (version-too-old)');

    const rotated = await cli(
      'verify',
      '--root',
      ws.at('root.json'),
      '--roots',
      ws.at('root-v2.json'),
      '--manifest',
      manifest,
    );
    expect(rotated).toMatchObject({ code: 1 });
    expect(rotated.err).toContain('refused (key-revoked)');

    const bytes = await readFile(bundle);
    bytes[bytes.length - 10]! ^= 0xff;
    await writeFile(ws.at('tampered.tar.gz'), bytes);
    const tampered = await cli(
      'verify',
      '--root',
      ws.at('root.json'),
      '--manifest',
      manifest,
      '--bundle',
      ws.at('tampered.tar.gz'),
    );
    expect(tampered.err).toContain('refused (hash-mismatch)');

    signed.signed.notes = 'edited';
    await writeFile(ws.at('edited.manifest.json'), JSON.stringify(signed));
    const edited = await cli(
      'verify',
      '--root',
      ws.at('root.json'),
      '--manifest',
      ws.at('edited.manifest.json'),
    );
    expect(edited.err).toContain('refused (bad-signature)');
  });
});
