import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { OtaError } from './ota-error.js';
import { sha256File } from './sha256-file.js';
import { isValidVersion } from './versions.js';

export interface BuildBundleOptions {
  /** The release version; written into the bundled package.json, which the device agent reports. */
  version: string;
  /** The .tar.gz to write. */
  out: string;
  /** The device agent workspace; defaults to apps/device-agent of the monorepo holding this package. */
  agentDir?: string;
}

export interface BundleInfo {
  file: string;
  size: number;
  sha256: string;
  /** Packages bundled besides the device agent. */
  packages: number;
  files: number;
  /** Native addons (*.node) in the bundle: they only run on `arch` and this Node ABI. */
  nativeAddons: string[];
  arch: string;
  nodeAbi: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  files?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

interface SourcePackage {
  dir: string;
  json: PackageJson;
  /** Outside every node_modules: a workspace package, linked by npm, copied as a real directory. */
  workspace: boolean;
  deps: Map<string, string>;
}

/**
 * Builds the device agent's bundle: its package.json and dist/ with its production dependencies in a
 * node_modules/ tree that Node resolves exactly as in the monorepo, every workspace link replaced by a real
 * directory, so `node dist/main.js` runs from the unpacked bundle without npm. The archive is reproducible:
 * sorted entries, fixed mtimes, no owners.
 */
export async function buildBundle(options: BuildBundleOptions): Promise<BundleInfo> {
  if (!isValidVersion(options.version)) {
    throw new OtaError(
      'BUNDLE_BUILD',
      `"${options.version}" is not a semantic version`,
      'pass e.g. --version 1.4.2',
    );
  }
  const agentDir = await realpath(options.agentDir ?? join(findMonorepoRoot(), 'apps', 'device-agent'));
  if (!existsSync(join(agentDir, 'dist', 'main.js'))) {
    throw new OtaError(
      'BUNDLE_BUILD',
      `${join(agentDir, 'dist', 'main.js')} does not exist`,
      'build the device agent first: npm run build -w @agentbox/device-agent',
    );
  }
  const boundary = await realpath(findMonorepoRoot(agentDir));
  const sources = await collectPackages(agentDir, boundary);
  const placements = placePackages(agentDir, sources);

  const staging = await mkdtemp(join(tmpdir(), 'agentbox-bundle-'));
  try {
    for (const [at, dir] of [...placements].sort(([a], [b]) => a.length - b.length)) {
      const source = sources.get(dir)!;
      if (at === '') await stageAgent(source, staging, options.version);
      else await stagePackage(source, join(staging, at));
    }
    const entries = await listTree(staging);
    const nativeAddons = entries.filter((path) => path.endsWith('.node'));
    const bundledJson = join(staging, 'package.json');
    const json = JSON.parse(await readFile(bundledJson, 'utf8')) as PackageJson;
    json.agentbox = {
      arch: process.arch,
      platform: process.platform,
      nodeAbi: process.versions.modules,
      nativeAddons,
    };
    await writeFile(bundledJson, `${JSON.stringify(json, null, 2)}\n`);

    const out = resolve(options.out);
    await mkdir(dirname(out), { recursive: true });
    await tar.c(
      { gzip: true, file: out, cwd: staging, portable: true, mtime: new Date(0), noDirRecurse: true },
      entries,
    );
    const { size } = await stat(out);
    return {
      file: out,
      size,
      sha256: await sha256File(out),
      packages: placements.size - 1,
      files: entries.filter((path) => !path.endsWith('/')).length,
      nativeAddons,
      arch: process.arch,
      nodeAbi: process.versions.modules,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export interface UnpackOptions {
  /** Refuse archives that unpack to more than this many bytes (default 2 GiB). */
  maxBytes?: number;
  /** Refuse archives with more entries than this (default 200,000). */
  maxEntries?: number;
}

/**
 * Unpacks a bundle into an empty (or missing) directory. The whole archive is checked before anything is
 * written: only regular files and directories, relative paths that stay inside `dir`, no links of any kind
 * (the builder writes none, and a link is how an archive writes outside its directory), bounded size.
 */
export async function unpackBundle(
  tarGz: string,
  dir: string,
  options: UnpackOptions = {},
): Promise<{ files: number; bytes: number }> {
  const target = resolve(dir);
  const maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
  const maxEntries = options.maxEntries ?? 200_000;
  if (existsSync(target) && (await readdir(target)).length > 0) {
    throw new OtaError(
      'BUNDLE_UNPACK',
      `${target} is not empty`,
      'unpack into an empty directory (wipe the slot first)',
    );
  }
  let problem: string | undefined;
  let files = 0;
  let bytes = 0;
  let entries = 0;
  const seen = new Set<string>();
  try {
    await tar.t({
      file: tarGz,
      strict: true,
      onReadEntry: (entry) => {
        entries++;
        problem ??= entryProblem(entry.path, entry.type, target, entry.linkpath);
        if (entry.type !== 'Directory') {
          files++;
          bytes += entry.size ?? 0;
        }
        seen.add(normalizeEntry(entry.path));
        if (!problem && bytes > maxBytes) problem = `it unpacks to more than ${maxBytes} bytes`;
        if (!problem && entries > maxEntries) problem = `it has more than ${maxEntries} entries`;
      },
    });
  } catch (error) {
    throw new OtaError(
      'BUNDLE_UNPACK',
      `${tarGz} is not a readable .tar.gz (${(error as Error).message})`,
      'download the bundle again and check its sha256 against the manifest',
    );
  }
  if (problem) {
    throw new OtaError(
      'BUNDLE_UNSAFE',
      `refusing bundle ${basename(tarGz)}: ${problem}`,
      'rebuild it with agentbox-release build',
    );
  }
  for (const required of ['package.json', 'dist/main.js']) {
    if (!seen.has(required)) {
      throw new OtaError(
        'BUNDLE_UNPACK',
        `${basename(tarGz)} is not a device agent bundle (no ${required})`,
        'build it with agentbox-release build',
      );
    }
  }
  await mkdir(target, { recursive: true });
  try {
    await writeEntries(tarGz, target, maxBytes, (found) => {
      problem ??= found;
    });
  } catch (error) {
    await rm(target, { recursive: true, force: true });
    throw new OtaError(
      'BUNDLE_UNPACK',
      `unpacking ${basename(tarGz)} failed (${(error as Error).message})`,
      'check free disk space, then download the bundle again',
    );
  }
  if (problem) {
    await rm(target, { recursive: true, force: true });
    throw new OtaError(
      'BUNDLE_UNSAFE',
      `refusing bundle ${basename(tarGz)}: ${problem}`,
      'rebuild it with agentbox-release build',
    );
  }
  return { files, bytes };
}

/**
 * The writing pass of unpackBundle: every entry checked again first (the archive could have been swapped
 * since it was listed), then written with synchronous open, write and close. node-tar's own extraction
 * makes several calls per file through the thread pool (open, write, chmod, utimes, close) and took
 * 12 to 18 s for the ~4,000 small files of a device agent bundle where this takes under 2 s
 * (docs/benchmarks.md). Only files and directories are ever created, fresh (`wx`) inside an empty
 * target, so nothing can be written through a link.
 */
async function writeEntries(
  tarGz: string,
  target: string,
  maxBytes: number,
  refuse: (problem: string) => void,
): Promise<void> {
  const made = new Set<string>([target]);
  const ensureDir = (dir: string) => {
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    made.add(dir);
  };
  const open = new Set<number>();
  let failure: Error | undefined;
  let refused = false;
  let bytes = 0;
  // Parser callbacks must not throw (the exception would escape the stream): the first error stops
  // the writing and is thrown once the archive has been read.
  const guarded = (work: () => void) => {
    if (failure || refused) return;
    try {
      work();
    } catch (error) {
      failure = error as Error;
    }
  };
  try {
    await tar.t({
      file: tarGz,
      strict: true,
      onReadEntry: (entry) => {
        guarded(() => {
          const problem = entryProblem(entry.path, entry.type, target, entry.linkpath);
          if (problem) {
            refused = true;
            refuse(problem);
            return;
          }
          const path = resolve(target, entry.path);
          if (entry.type === 'Directory') {
            ensureDir(path);
            return;
          }
          ensureDir(dirname(path));
          // Permission bits only, never set-id or group/world write.
          const fd = openSync(path, 'wx', (entry.mode ?? 0o644) & 0o755);
          open.add(fd);
          entry.on('data', (chunk: Buffer) =>
            guarded(() => {
              bytes += chunk.length;
              if (bytes > maxBytes) {
                refused = true;
                refuse(`it unpacks to more than ${maxBytes} bytes`);
                return;
              }
              for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at);
            }),
          );
          entry.on('end', () => {
            if (!open.delete(fd)) return;
            guarded(() => closeSync(fd));
          });
        });
        // Whatever happened, the parser moves on to the next entry.
        entry.resume();
      },
    });
  } finally {
    for (const fd of open) closeSync(fd);
  }
  if (failure) throw failure;
}

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

function entryProblem(
  path: string,
  type: string | undefined,
  target: string,
  linkpath: string | undefined,
): string | undefined {
  if (type === 'SymbolicLink' || type === 'Link') {
    return `entry ${JSON.stringify(path)} is a ${type === 'Link' ? 'hard' : 'symbolic'} link to ${JSON.stringify(linkpath ?? '')}`;
  }
  if (!type || !ALLOWED_TYPES.has(type))
    return `entry ${JSON.stringify(path)} is a ${type ?? 'unknown'} entry`;
  if (path.includes('\0') || path.includes('\\'))
    return `entry ${JSON.stringify(path)} has a forbidden character`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path))
    return `entry ${JSON.stringify(path)} is an absolute path`;
  if (path.split('/').includes('..')) return `entry ${JSON.stringify(path)} climbs out with ".."`;
  const resolved = resolve(target, path);
  if (resolved !== target && !resolved.startsWith(target + sep))
    return `entry ${JSON.stringify(path)} lands outside`;
  return undefined;
}

function normalizeEntry(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** The monorepo root above `from`: the nearest package.json declaring workspaces. */
export function findMonorepoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const json = JSON.parse(readFileSync(candidate, 'utf8')) as { workspaces?: unknown };
        if (json.workspaces) return dir;
      } catch {
        // An unreadable package.json is not the root; keep climbing.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new OtaError(
        'BUNDLE_BUILD',
        `no monorepo root (package.json with workspaces) above ${from}`,
        'run from the AgentBox repository, or pass agentDir',
      );
    }
    dir = parent;
  }
}

async function collectPackages(agentDir: string, boundary: string): Promise<Map<string, SourcePackage>> {
  const sources = new Map<string, SourcePackage>();
  const queue = [agentDir];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    if (sources.has(dir)) continue;
    const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
    const source: SourcePackage = {
      dir,
      json,
      workspace: !dir.split(sep).includes('node_modules'),
      deps: new Map(),
    };
    sources.set(dir, source);
    const wanted: [string, boolean][] = [
      ...Object.keys(json.dependencies ?? {}).map((name) => [name, true] as [string, boolean]),
      ...Object.keys(json.optionalDependencies ?? {}).map((name) => [name, false] as [string, boolean]),
      ...Object.keys(json.peerDependencies ?? {}).map(
        // npm installs required peers; a peer that is absent anyway is not needed at run time.
        (name) => [name, false] as [string, boolean],
      ),
    ];
    for (const [name, required] of wanted) {
      if (source.deps.has(name)) continue;
      const found = await resolvePackage(dir, name, boundary);
      if (!found) {
        if (!required) continue;
        throw new OtaError(
          'BUNDLE_BUILD',
          `${json.name ?? dir} depends on ${name}, which is not installed`,
          'run npm install at the repository root',
        );
      }
      source.deps.set(name, found);
      queue.push(found);
    }
  }
  return sources;
}

/** Node's lookup: <dir>/node_modules/<name>, then each parent's, up to the repository root. */
async function resolvePackage(from: string, name: string, boundary: string): Promise<string | undefined> {
  for (let dir = from; dir === boundary || dir.startsWith(boundary + sep); dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpath(candidate);
    }
    if (dir === boundary) break;
  }
  return undefined;
}

/**
 * Lays the packages out under the bundle root so that, from every placed package, Node's lookup finds the
 * same package (same real directory) it finds in the monorepo. Each dependency goes to the top-level
 * node_modules when that name is free along the lookup path, else nested under the package that needs it;
 * then the whole layout is checked again until nothing moves.
 */
function placePackages(agentDir: string, sources: Map<string, SourcePackage>): Map<string, string> {
  const placements = new Map<string, string>([['', agentDir]]);
  for (let pass = 0; pass < 20; pass++) {
    let moved = false;
    const queue = [...placements.keys()].sort((a, b) => a.length - b.length);
    while (queue.length > 0) {
      const at = queue.shift()!;
      const source = sources.get(placements.get(at)!)!;
      for (const [name, dir] of source.deps) {
        const found = lookup(placements, at, name);
        if (found !== undefined && placements.get(found) === dir) continue;
        const place =
          found === undefined ? `node_modules/${name}` : `${at ? `${at}/` : ''}node_modules/${name}`;
        if (placements.has(place) && placements.get(place) !== dir) {
          throw new OtaError(
            'BUNDLE_BUILD',
            `two versions of ${name} need the same place in the bundle (${place})`,
            'run npm dedupe, then build again',
          );
        }
        placements.set(place, dir);
        queue.push(place);
        moved = true;
      }
    }
    if (!moved) return placements;
  }
  throw new OtaError(
    'BUNDLE_BUILD',
    'the dependency layout does not settle',
    'run npm dedupe, then build again',
  );
}

function lookup(placements: Map<string, string>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    if (!dir.endsWith('node_modules')) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (placements.has(candidate)) return candidate;
    }
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
}

async function stageAgent(source: SourcePackage, staging: string, version: string): Promise<void> {
  const { name, description, type, main, bin, engines, dependencies, optionalDependencies } = source.json;
  const json = { name, version, description, type, main, bin, engines, dependencies, optionalDependencies };
  await writeFile(join(staging, 'package.json'), `${JSON.stringify(json, null, 2)}\n`);
  await copyTree(join(source.dir, 'dist'), join(staging, 'dist'), (path) => !/\.d\.ts(\.map)?$/.test(path));
}

async function stagePackage(source: SourcePackage, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  if (!source.workspace) {
    const unused = new Set((KNOWN_UNUSED[source.json.name ?? ''] ?? []).map((dir) => join(source.dir, dir)));
    await copyTree(source.dir, into, (path) => {
      if (path === join(source.dir, 'node_modules') || unused.has(path)) return false;
      return !NOT_AT_RUN_TIME.test(basename(path));
    });
    return;
  }
  // A workspace package ships what it publishes: package.json plus its `files` (dist/ by convention).
  await cp(join(source.dir, 'package.json'), join(into, 'package.json'));
  for (const entry of source.json.files ?? ['dist']) {
    const from = join(source.dir, entry);
    if (!existsSync(from)) {
      throw new OtaError(
        'BUNDLE_BUILD',
        `${source.json.name ?? source.dir} has no ${entry}`,
        `build it first: npm run build -w ${source.json.name ?? source.dir}`,
      );
    }
    await copyTree(from, join(into, entry), (path) => !NOT_AT_RUN_TIME.test(basename(path)));
  }
}

/**
 * Files Node never loads when running JavaScript: TypeScript sources and declarations, source maps,
 * documentation, C/C++ sources and object files of native addons (the compiled .node is kept).
 */
const NOT_AT_RUN_TIME =
  /(\.(d\.[cm]?ts|[cm]?ts|map|md|markdown|c|cc|cpp|h|hpp|o|a|obj|gyp|gypi|mk)$)|^(obj\.target|\.deps|Makefile|CHANGELOG.*|HISTORY.*)$/i;

/**
 * Directories of specific packages that the device agent cannot reach: browser builds outside the
 * package's `exports` map. Each is proven unneeded by the bundle round-trip test, which imports the package
 * from an unpacked bundle.
 */
const KNOWN_UNUSED: Record<string, readonly string[]> = {
  'gpt-tokenizer': ['dist'],
};

async function copyTree(
  from: string,
  to: string,
  filter: (path: string) => boolean = () => true,
): Promise<void> {
  // dereference: a symlink inside a package becomes the file it points to, so the bundle holds no links.
  await cp(from, to, { recursive: true, dereference: true, filter: (path) => filter(path) });
}

/** Every directory (with a trailing slash) and file under `root`, relative, sorted: a stable archive order. */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const items = (await readdir(join(root, dir), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const item of items) {
      const path = dir ? `${dir}/${item.name}` : item.name;
      if (item.isDirectory()) {
        out.push(`${path}/`);
        await walk(path);
      } else if (item.isFile()) {
        out.push(path);
      }
    }
  };
  await walk('');
  return out;
}
