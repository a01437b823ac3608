import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { buildBundle, findMonorepoRoot, unpackBundle, type BundleInfo } from './bundle.js';
import { OtaError } from './ota-error.js';
import { sha256File } from './sha256-file.js';

const run = promisify(execFile);
const repo = findMonorepoRoot();

/** A tar.gz written header by header, so it can hold what no honest packer writes. */
function craftTarGz(
  entries: {
    path: string;
    type: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
    linkpath?: string;
    body?: string;
  }[],
): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = Buffer.alloc(512);
    new tar.Header({
      path: entry.path,
      type: entry.type,
      linkpath: entry.linkpath,
      size: entry.type === 'File' ? body.length : 0,
      mode: entry.type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date(0),
    }).encode(header, 0);
    blocks.push(header);
    if (entry.type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

const honest = [
  { path: 'package.json', type: 'File' as const, body: '{}' },
  { path: 'dist/', type: 'Directory' as const },
  { path: 'dist/main.js', type: 'File' as const, body: 'process.exit(0)' },
];

describe('unpackBundle', () => {
  const dir = useTempDir('ota-unpack-', { per: 'suite' });

  it('unpacks an honest archive', async () => {
    const file = join(dir.path, 'ok.tar.gz');
    await writeFile(file, craftTarGz(honest));
    const sut = await unpackBundle(file, join(dir.path, 'ok'));
    expect(sut).toEqual({ files: 2, bytes: 17 });
    expect(await readFile(join(dir.path, 'ok', 'dist', 'main.js'), 'utf8')).toBe('process.exit(0)');
  });

  const crafted: [string, Parameters<typeof craftTarGz>[0], RegExp][] = [
    ['a ../ entry', [...honest, { path: '../escaped.txt', type: 'File', body: 'x' }], /climbs out/],
    [
      'a nested ../ entry',
      [...honest, { path: 'dist/../../escaped.txt', type: 'File', body: 'x' }],
      /climbs out/,
    ],
    ['an absolute path', [...honest, { path: '/tmp/ota-escaped.txt', type: 'File', body: 'x' }], /absolute/],
    [
      'a symlink out',
      [...honest, { path: 'dist/out', type: 'SymbolicLink', linkpath: '../..' }],
      /symbolic link/,
    ],
    [
      'a file written through a symlink',
      [
        ...honest,
        { path: 'up', type: 'SymbolicLink', linkpath: '..' },
        { path: 'up/escaped.txt', type: 'File', body: 'x' },
      ],
      /symbolic link/,
    ],
    ['a hard link out', [...honest, { path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }], /hard link/],
  ];

  it.each(crafted)('refuses %s and writes nothing', async (_name, entries, message) => {
    const work = await mkdtemp(join(dir.path, 'case-'));
    const file = join(work, 'evil.tar.gz');
    await writeFile(file, craftTarGz(entries));
    const slot = join(work, 'slots', 'b');
    const error = await unpackBundle(file, slot).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OtaError);
    expect((error as OtaError).code).toBe('BUNDLE_UNSAFE');
    expect((error as OtaError).message).toMatch(message);
    expect(existsSync(slot)).toBe(false);
    expect(existsSync(join(work, 'slots', 'escaped.txt'))).toBe(false);
    expect(existsSync(join(work, 'escaped.txt'))).toBe(false);
    expect(existsSync('/tmp/ota-escaped.txt')).toBe(false);
  });

  it('refuses an archive without the device agent, a corrupt one and a non-empty target', async () => {
    const file = join(dir.path, 'empty.tar.gz');
    await writeFile(file, craftTarGz([{ path: 'package.json', type: 'File', body: '{}' }]));
    await expect(unpackBundle(file, join(dir.path, 'empty'))).rejects.toThrow(/no dist\/main.js/);
    const corrupt = join(dir.path, 'corrupt.tar.gz');
    await writeFile(corrupt, Buffer.from('not gzip at all'));
    await expect(unpackBundle(corrupt, join(dir.path, 'corrupt'))).rejects.toThrow(
      /download the bundle again/,
    );
    const good = join(dir.path, 'good.tar.gz');
    await writeFile(good, craftTarGz(honest));
    await mkdir(join(dir.path, 'busy'));
    await writeFile(join(dir.path, 'busy', 'old'), 'x');
    await expect(unpackBundle(good, join(dir.path, 'busy'))).rejects.toThrow(/not empty/);
  });

  it('refuses an archive larger than the bound', async () => {
    const file = join(dir.path, 'big.tar.gz');
    await writeFile(file, craftTarGz([...honest, { path: 'blob', type: 'File', body: 'x'.repeat(5000) }]));
    await expect(unpackBundle(file, join(dir.path, 'big'), { maxBytes: 4096 })).rejects.toThrow(
      /more than 4096 bytes/,
    );
  });
});

describe('buildBundle layout', () => {
  const dir = useTempDir('ota-layout-', { per: 'suite' });

  const pkg = async (at: string, json: object, files: Record<string, string> = {}) => {
    await mkdir(join(dir.path, at), { recursive: true });
    await writeFile(join(dir.path, at, 'package.json'), JSON.stringify(json));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir.path, at, name, '..'), { recursive: true });
      await writeFile(join(dir.path, at, name), text);
    }
  };

  it('keeps each dependency resolving to the version it resolves to in the monorepo, links as real dirs', async () => {
    const cjs = (version: string) => ({ 'index.js': `module.exports = ${JSON.stringify(version)};` });
    await pkg('repo', { name: 'repo', workspaces: ['agent', 'lib'] });
    // The agent wants b@2 (its own node_modules) and a, which wants b@1 (hoisted to the root).
    await pkg(
      'repo/agent',
      {
        name: 'agent',
        type: 'module',
        dependencies: { a: '*', b: '2', '@x/lib': '*' },
        devDependencies: { dev: '*' },
      },
      {
        'dist/main.js':
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" +
          "console.log(JSON.stringify([require('b'), require('a'), require('@x/lib')]));",
      },
    );
    await pkg('repo/agent/node_modules/b', { name: 'b', version: '2.0.0' }, cjs('b2'));
    await pkg(
      'repo/node_modules/a',
      { name: 'a', version: '1.0.0', dependencies: { b: '1' } },
      {
        'index.js': "module.exports = 'a+' + require('b');",
        'README.md': 'docs are left out',
      },
    );
    await pkg('repo/node_modules/b', { name: 'b', version: '1.0.0' }, cjs('b1'));
    await pkg('repo/node_modules/dev', { name: 'dev', version: '1.0.0' }, cjs('dev'));
    // A workspace package, linked by npm: it must arrive as a real directory with only its `files`.
    await pkg(
      'repo/lib',
      { name: '@x/lib', version: '0.1.0', main: 'dist/index.js', files: ['dist'] },
      {
        'dist/index.js': "module.exports = 'lib';",
        'src/index.ts': 'export {}',
      },
    );
    await mkdir(join(dir.path, 'repo/node_modules/@x'), { recursive: true });
    await symlink('../../lib', join(dir.path, 'repo/node_modules/@x/lib'));

    const info = await buildBundle({
      version: '1.0.0',
      out: join(dir.path, 'b.tar.gz'),
      agentDir: join(dir.path, 'repo/agent'),
    });
    expect(info.packages).toBe(4);
    const slot = join(dir.path, 'slot');
    await unpackBundle(info.file, slot);
    expect(existsSync(join(slot, 'node_modules/a/node_modules/b/index.js'))).toBe(true);
    expect(existsSync(join(slot, 'node_modules/a/README.md'))).toBe(false);
    expect(existsSync(join(slot, 'node_modules/dev'))).toBe(false);
    expect(existsSync(join(slot, 'node_modules/@x/lib/src'))).toBe(false);
    const ran = spawnSync(process.execPath, ['dist/main.js'], { cwd: slot, encoding: 'utf8' });
    expect(ran.stderr).toBe('');
    expect(JSON.parse(ran.stdout)).toEqual(['b2', 'a+b1', 'lib']);

    const again = await buildBundle({
      version: '1.0.0',
      out: join(dir.path, 'c.tar.gz'),
      agentDir: join(dir.path, 'repo/agent'),
    });
    expect(again.sha256).toBe(info.sha256);
  });
});

describe('buildBundle', () => {
  const dir = useTempDir('ota-bundle-', { per: 'suite' });
  let info: BundleInfo;

  beforeAll(async () => {
    // The bundle is made of built output; build what is missing (a stale build is still a real bundle).
    for (const [workspace, entry] of [
      ['@agentbox/schemas', 'packages/schemas/dist/index.js'],
      ['@agentbox/ota', 'packages/ota/dist/index.js'],
      ['@agentbox/device-agent', 'apps/device-agent/dist/main.js'],
    ] as const) {
      if (!existsSync(join(repo, entry))) await run('npm', ['run', 'build', '-w', workspace], { cwd: repo });
    }
    info = await buildBundle({
      version: '7.8.9',
      out: join(dir.path, 'out', 'agentbox-device-agent-7.8.9.tar.gz'),
    });
  }, 300_000);

  it('writes a bundle whose size and sha256 match the file', async () => {
    expect(info.sha256).toBe(await sha256File(info.file));
    expect(info.size).toBeGreaterThan(1_000_000);
    expect(info.packages).toBeGreaterThan(10);
    expect(info.nativeAddons.some((path) => path.endsWith('better_sqlite3.node'))).toBe(true);
    console.info(
      `bundle: ${(info.size / 1024 / 1024).toFixed(1)} MiB, ${info.files} files, ${info.packages} packages`,
    );
  });

  it('unpacks into a tree without links that runs with node alone', async () => {
    const slot = join(dir.path, 'slots', 'a');
    await unpackBundle(info.file, slot);
    const links = spawnSync('find', [slot, '-type', 'l'], { encoding: 'utf8' });
    expect(links.stdout).toBe('');
    const json = JSON.parse(await readFile(join(slot, 'package.json'), 'utf8'));
    expect(json).toMatchObject({ version: '7.8.9', agentbox: { arch: process.arch } });
    expect(json.devDependencies).toBeUndefined();
    expect(await readdir(join(slot, 'node_modules', '@agentbox'))).toEqual(
      expect.arrayContaining(['logging', 'schemas', 'telemetry']),
    );
    expect(existsSync(join(slot, 'node_modules', '@agentbox', 'test-support'))).toBe(false);

    // Started with an invalid environment, the device agent loads its whole module graph and then
    // stops at its configuration check (exit 78, EX_CONFIG).
    const env = { PATH: process.env.PATH, HOME: slot, AGENTBOX_FLEET_URL: 'not-a-url' };
    const started = spawnSync(process.execPath, ['dist/main.js'], { cwd: slot, env, encoding: 'utf8' });
    expect(started.stderr).toContain('AGENTBOX_FLEET_URL must be an http(s) URL');
    expect(started.status).toBe(78);

    // What the graph loads lazily: the native SQLite addon and the tokenizer.
    const lazy = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const D = (await import('better-sqlite3')).default; const { countTokens } = await import('gpt-tokenizer');" +
          "console.log(JSON.stringify([new D(':memory:').prepare('select 41 + 1 as x').get().x, countTokens('hello world')]));",
      ],
      { cwd: slot, env, encoding: 'utf8' },
    );
    expect(lazy.stderr).toBe('');
    expect(JSON.parse(lazy.stdout)).toEqual([42, 2]);
  }, 60_000);
});
