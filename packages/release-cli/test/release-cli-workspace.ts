import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { runReleaseCli } from '../src/release-cli.js';

export const NOW = Date.parse('2030-01-01T00:00:00Z');

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs agentbox-release in this process at NOW and collects what it prints. */
export async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReleaseCli(argv, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    now: () => NOW,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `--flag value` for each entry, in order. */
function flagArgs(flags: Record<string, string>): string[] {
  return Object.entries(flags).flatMap(([flag, value]) => [`--${flag}`, value]);
}

/**
 * A temp directory with a minimal monorepo holding a dependency-free "device agent", so builds here take
 * milliseconds, plus the keys, roots and releases a command under test starts from, made with the CLI:
 * keys/<name>.pem|.pub.json, root.json (v1: root key `root`, release key `release`), root-v2.json (root2 and
 * release2, signed by root and root2), and out/ with the releases built.
 */
export class ReleaseWorkspace {
  constructor(private readonly root: { readonly path: string }) {}

  get dir(): string {
    return this.root.path;
  }

  /** Lays the minimal monorepo and the notes out in the (empty) directory. */
  async create(): Promise<void> {
    await mkdir(this.at('repo', 'agent', 'dist'), { recursive: true });
    await writeFile(this.at('repo', 'package.json'), JSON.stringify({ name: 'repo', workspaces: ['agent'] }));
    await writeFile(
      this.at('repo', 'agent', 'package.json'),
      JSON.stringify({
        name: 'agent',
        version: '0.0.0',
        type: 'module',
        main: 'dist/main.js',
        devDependencies: { x: '1' },
      }),
    );
    await writeFile(this.at('repo', 'agent', 'dist', 'main.js'), 'console.log("agent")\n');
    await writeFile(this.at('notes.md'), 'Faster reconnects.\n');
  }

  at(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  manifest(version: string): string {
    return this.at('out', `agentbox-device-agent-${version}.manifest.json`);
  }

  bundle(version: string): string {
    return this.at('out', `agentbox-device-agent-${version}.tar.gz`);
  }

  async keys(...names: string[]): Promise<void> {
    for (const name of names) await this.prepare('keygen', '--out', this.at('keys'), '--name', name);
  }

  /** `root init` of root.json; needs the keys root and release. */
  rootInitArgs(): string[] {
    return [
      'root',
      'init',
      ...flagArgs({
        'root-key': this.at('keys', 'root.pem'),
        'release-key': this.at('keys', 'release.pub.json'),
        out: this.at('root.json'),
      }),
    ];
  }

  async rootV1(): Promise<void> {
    await this.prepare(...this.rootInitArgs());
  }

  /**
   * `root rotate` of root.json to root-v2.json with the root key root2 and the release key release2, signed by
   * `signers` (key names); needs root.json.
   */
  rootRotateArgs(...signers: string[]): string[] {
    return [
      'root',
      'rotate',
      ...flagArgs({
        root: this.at('root.json'),
        'root-key': this.at('keys', 'root2.pub.json'),
        'release-key': this.at('keys', 'release2.pub.json'),
        out: this.at('root-v2.json'),
        sign: signers.map((name) => this.at('keys', `${name}.pem`)).join(','),
      }),
    ];
  }

  /** root-v2.json, signed by root and root2; needs the keys root, root2 and release2. */
  async rootV2(): Promise<void> {
    await this.prepare(...this.rootRotateArgs('root', 'root2'));
  }

  /** `build` of `version` for x64 and arm64 from 1.0.0 on, with notes, checked against root.json. */
  buildArgs(version: string, key = 'release'): string[] {
    return [
      'build',
      ...flagArgs({
        version,
        key: this.at('keys', `${key}.pem`),
        arch: 'x64,arm64',
        'min-version': '1.0.0',
        notes: this.at('notes.md'),
        root: this.at('root.json'),
        'agent-dir': this.at('repo', 'agent'),
        out: this.at('out'),
      }),
    ];
  }

  async release(version: string): Promise<void> {
    await this.prepare(...this.buildArgs(version));
  }

  /** A command the test starts from rather than tests: it must succeed. */
  private async prepare(...argv: string[]): Promise<void> {
    const run = await cli(...argv);
    if (run.code !== 0) throw new Error(`agentbox-release ${argv.join(' ')} exited ${run.code}: ${run.err}`);
  }
}

/** What a command under test starts from, made with the CLI in this order. */
export interface WorkspaceSetup {
  /** Key pairs (keygen), by name. */
  keys?: string[];
  /** 1: root.json; 2: root.json and root-v2.json. */
  roots?: 1 | 2;
  /** Releases (build), by version. */
  releases?: string[];
}

/** A workspace with `setup` done, made before the tests of the calling describe block and removed after them. */
export function useReleaseWorkspace(setup: WorkspaceSetup = {}): ReleaseWorkspace {
  const workspace = new ReleaseWorkspace(useTempDir('ota-cli-', { per: 'suite' }));
  beforeAll(async () => {
    await workspace.create();
    if (setup.keys) await workspace.keys(...setup.keys);
    if (setup.roots) await workspace.rootV1();
    if (setup.roots === 2) await workspace.rootV2();
    for (const version of setup.releases ?? []) await workspace.release(version);
  });
  return workspace;
}
