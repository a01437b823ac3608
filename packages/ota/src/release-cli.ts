import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ARCHITECTURES, RELEASE_CHANNELS, type SignedRelease, type SignedRoot } from '@agentbox/schemas';
import { buildBundle } from './bundle.js';
import { parseDuration } from './durations.js';
import { signEnvelope } from './envelope.js';
import { generateKeyPair, keyIdOf, publicKeyOfPrivate } from './keys.js';
import { OtaError } from './ota-error.js';
import { createReleaseManifest, verifyRelease } from './release-manifest.js';
import { createRootMetadata, verifyRoot, verifyRootChain, verifyRootUpdate } from './root-metadata.js';
import { sha256File } from './sha256-file.js';
import { isValidVersion } from './versions.js';

export const USAGE = `agentbox-release: build and sign releases of the AgentBox device agent

  keygen --out DIR [--name release|root]
      Writes DIR/<name>.pem (private, mode 0600: keep it offline) and DIR/<name>.pub.json.
  root init --root-key ROOT.pem... --release-key KEY... [--root-threshold N] [--release-threshold N]
            [--expires 365d] --out root.json
      Root metadata version 1, signed by the root keys. Boxes pin it at install.
  root rotate --root root.json --sign KEY.pem... [--root-key KEY...] [--release-key KEY...]
              [--root-threshold N] [--release-threshold N] [--expires 365d] --out root-v2.json
      The next root version (keys not given stay as they are), signed by a threshold of the current
      root keys and of the new ones.
  build --version X [--channel stable|beta|dev] --key RELEASE.pem [--arch x64,arm64] [--min-version V]
        [--notes FILE] [--expires 180d] [--rollback-target] [--root root.json] --out DIR
      Builds the device agent bundle and its signed manifest into DIR (build the device agent first).
  verify --root root.json [--roots r2.json,...] --manifest M [--bundle B] [--current-version V] [--arch A]
      Checks the root chain, the manifest signatures and expiry, and the bundle's size and sha256.
  upload --url FLEET_URL (--api-key abk_... | --token TOKEN) --manifest M --bundle B
      Registers the release on the fleet service and uploads its bundle. Authenticate with an admin
      API key (console: API keys; or env AGENTBOX_API_KEY), or an admin's login token (AGENTBOX_API_TOKEN).

KEY is a .pem private key, a .pub.json public key or a base64 raw Ed25519 public key; repeat the flag
or separate with commas.`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  now?: () => number;
}

/** Runs one command; returns the exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runReleaseCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await dispatch([...argv], io);
    return 0;
  } catch (error) {
    if (error instanceof OtaError) {
      io.err(`agentbox-release: ${error.message}`);
      return error.code === 'USAGE' ? 2 : 1;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`agentbox-release: ${error.message} (run agentbox-release --help)`);
      return 2;
    }
    throw error;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<void> {
  const [command, ...rest] = argv;
  const now = io.now ?? Date.now;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(USAGE);
      return;
    case 'keygen':
      return keygen(rest, io);
    case 'root': {
      const [sub, ...args] = rest;
      if (sub === 'init') return rootInit(args, io, now());
      if (sub === 'rotate') return rootRotate(args, io, now());
      throw usage(`unknown root command "${sub ?? ''}"`, 'use root init or root rotate');
    }
    case 'build':
      return build(rest, io, now());
    case 'verify':
      return verify(rest, io, now());
    case 'upload':
      return upload(rest, io);
    default:
      throw usage(`unknown command "${command}"`, 'run agentbox-release --help');
  }
}

// ------------------------------------------------------------------------------------------ commands

async function keygen(argv: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, name: { type: 'string' } },
  });
  const dir = required(values.out, '--out DIR');
  const name = values.name ?? 'release';
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw usage(`--name "${name}" is not a plain file name`, 'e.g. --name root');
  const pem = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.json`);
  for (const file of [pem, pub]) {
    if (existsSync(file))
      throw usage(`${file} exists`, 'choose another --name or --out; keys are never overwritten');
  }
  const pair = generateKeyPair();
  await mkdir(dir, { recursive: true });
  await writeFile(pem, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await chmod(pem, 0o600);
  await writeFile(
    pub,
    `${JSON.stringify({ keyid: pair.keyid, type: 'ed25519', public: pair.publicKey }, null, 2)}\n`,
    {
      flag: 'wx',
    },
  );
  io.out(`key ${pair.keyid}\n  private: ${pem} (keep it off the fleet service)\n  public:  ${pub}`);
}

async function rootInit(argv: string[], io: CliIo, now: number): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'root-key': { type: 'string', multiple: true },
      'release-key': { type: 'string', multiple: true },
      'root-threshold': { type: 'string' },
      'release-threshold': { type: 'string' },
      expires: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const out = required(values.out, '--out root.json');
  const rootPems = await Promise.all(list(values['root-key'], '--root-key ROOT.pem').map(readPrivateKey));
  const releaseKeys = await Promise.all(list(values['release-key'], '--release-key KEY').map(readPublicKey));
  const root = createRootMetadata({
    version: 1,
    expires: new Date(now + parseDuration(values.expires ?? '365d')).toISOString(),
    rootKeys: rootPems.map((pem) => publicKeyOfPrivate(pem).publicKey),
    releaseKeys,
    rootThreshold: threshold(values['root-threshold']),
    releaseThreshold: threshold(values['release-threshold']),
  });
  const signed = signEnvelope(root, rootPems);
  const check = verifyRoot(signed, { now });
  if (!check.ok)
    throw new OtaError('ROOT_SIGNATURE', check.detail, 'pass at least the root threshold of root keys');
  await writeJson(out, signed);
  io.out(`root v1 -> ${out} (expires ${root.expires}); install it on every box as <stateDir>/ota/root.json`);
}

async function rootRotate(argv: string[], io: CliIo, now: number): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      sign: { type: 'string', multiple: true },
      'root-key': { type: 'string', multiple: true },
      'release-key': { type: 'string', multiple: true },
      'root-threshold': { type: 'string' },
      'release-threshold': { type: 'string' },
      expires: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const current = await readJson<SignedRoot>(required(values.root, '--root root.json'), 'root');
  const out = required(values.out, '--out root-vN.json');
  const signers = await Promise.all(list(values.sign, '--sign KEY.pem').map(readPrivateKey));
  const keep = (role: 'root' | 'release') =>
    current.signed.roles[role].keyids.map((id) => current.signed.keys[id]!.public);
  const rootKeys = values['root-key']
    ? await Promise.all(list(values['root-key'], '').map(readPublicKey))
    : keep('root');
  const releaseKeys = values['release-key']
    ? await Promise.all(list(values['release-key'], '').map(readPublicKey))
    : keep('release');
  const next = createRootMetadata({
    version: current.signed.version + 1,
    expires: new Date(now + parseDuration(values.expires ?? '365d')).toISOString(),
    rootKeys,
    releaseKeys,
    rootThreshold: threshold(values['root-threshold']) ?? current.signed.roles.root.threshold,
    releaseThreshold: threshold(values['release-threshold']) ?? current.signed.roles.release.threshold,
  });
  const signed = signEnvelope(next, signers);
  const check = verifyRootUpdate(current, signed, { now });
  if (!check.ok) {
    throw new OtaError(
      'ROOT_SIGNATURE',
      check.detail,
      'sign with --sign for a threshold of the current root keys AND of the new root keys',
    );
  }
  await writeJson(out, signed);
  io.out(
    `root v${next.version} -> ${out} (expires ${next.expires}); upload it to the fleet service ` +
      '(PUT /api/v1/ota/root), which hands it to boxes with their next update',
  );
}

async function build(argv: string[], io: CliIo, now: number): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      version: { type: 'string' },
      channel: { type: 'string' },
      key: { type: 'string', multiple: true },
      arch: { type: 'string' },
      'min-version': { type: 'string' },
      notes: { type: 'string' },
      expires: { type: 'string' },
      'rollback-target': { type: 'boolean' },
      root: { type: 'string' },
      'agent-dir': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const version = required(values.version, '--version X.Y.Z');
  if (!isValidVersion(version)) throw usage(`--version "${version}" is not semantic`, 'e.g. --version 1.4.2');
  const channel = values.channel ?? 'stable';
  if (!(RELEASE_CHANNELS as readonly string[]).includes(channel)) {
    throw usage(`--channel "${channel}" is unknown`, `use one of ${RELEASE_CHANNELS.join(', ')}`);
  }
  const keys = await Promise.all(list(values.key, '--key RELEASE.pem').map(readPrivateKey));
  const arch = (values.arch ?? process.arch).split(',').map((item) => item.trim());
  for (const item of arch) {
    if (!(ARCHITECTURES as readonly string[]).includes(item)) {
      throw usage(`--arch "${item}" is unknown`, `use ${ARCHITECTURES.join(' or ')}, comma-separated`);
    }
  }
  const minVersion = values['min-version'];
  if (minVersion !== undefined && !isValidVersion(minVersion)) {
    throw usage(`--min-version "${minVersion}" is not semantic`, 'e.g. --min-version 1.2.0');
  }
  const notes = values.notes ? await readFile(values.notes, 'utf8') : '';
  const root = values.root ? await readJson<SignedRoot>(values.root, 'root') : undefined;
  const out = resolve(required(values.out, '--out DIR'));
  const name = `agentbox-device-agent-${version}`;

  const bundle = await buildBundle({
    version,
    out: join(out, `${name}.tar.gz`),
    agentDir: values['agent-dir'],
  });
  const foreign = arch.filter((item) => item !== bundle.arch);
  if (bundle.nativeAddons.length > 0 && foreign.length > 0) {
    await rm(bundle.file, { force: true });
    throw new OtaError(
      'BUNDLE_BUILD',
      `the bundle holds native addons built for ${bundle.arch} (${bundle.nativeAddons[0]}), so it cannot run on ${foreign.join(', ')}`,
      `pass --arch ${bundle.arch}, and build the ${foreign.join(', ')} bundle on a machine of that architecture`,
    );
  }
  const manifest = createReleaseManifest({
    type: 'release',
    version,
    channel,
    createdAt: new Date(now).toISOString(),
    expires: new Date(now + parseDuration(values.expires ?? '180d')).toISOString(),
    artifact: { name: `${name}.tar.gz`, size: bundle.size, sha256: bundle.sha256 },
    compatibility: { arch, ...(minVersion ? { minCurrentVersion: minVersion } : {}) },
    notes,
    rollbackTarget: values['rollback-target'] ?? false,
  });
  const signed = signEnvelope(manifest, keys);
  if (root) {
    const check = verifyRelease(signed, root, { now });
    if (!check.ok) {
      throw new OtaError('INVALID_METADATA', `${check.detail}`, 'sign with a release key listed in --root');
    }
  }
  const manifestFile = join(out, `${name}.manifest.json`);
  await writeJson(manifestFile, signed);
  io.out(
    [
      `release ${version} (${channel}, ${arch.join(', ')})`,
      `  bundle:   ${bundle.file} (${formatBytes(bundle.size)}, ${bundle.packages} packages, sha256 ${bundle.sha256})`,
      `  manifest: ${manifestFile} (signed by ${signed.signatures.map((s) => s.keyid.slice(0, 12)).join(', ')})`,
    ].join('\n'),
  );
}

async function verify(argv: string[], io: CliIo, now: number): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      roots: { type: 'string', multiple: true },
      manifest: { type: 'string' },
      bundle: { type: 'string' },
      'current-version': { type: 'string' },
      arch: { type: 'string' },
    },
  });
  const pinned = verifyRoot(await readJson(required(values.root, '--root root.json'), 'root'), { now });
  if (!pinned.ok) throw refused(pinned.reason, pinned.detail);
  const later = await Promise.all(list(values.roots, '').map((file) => readJson(file, 'root')));
  const chain = verifyRootChain(pinned.root, later, { now });
  if (!chain.ok) throw refused(chain.reason, chain.detail);
  const release = await readJson<SignedRelease>(required(values.manifest, '--manifest FILE'), 'manifest');
  const check = verifyRelease(release, chain.root, {
    now,
    currentVersion: values['current-version'],
    arch: values.arch,
    previousRoots: [pinned.root, ...chain.accepted],
  });
  if (!check.ok) throw refused(check.reason, check.detail);
  const { manifest } = check;
  if (values.bundle) {
    const { size } = await stat(values.bundle);
    if (size !== manifest.artifact.size) {
      throw refused(
        'size-mismatch',
        `the bundle is ${size} bytes, the manifest says ${manifest.artifact.size}`,
      );
    }
    const sha256 = await sha256File(values.bundle);
    if (sha256 !== manifest.artifact.sha256) {
      throw refused(
        'hash-mismatch',
        `the bundle's sha256 is ${sha256}, the manifest says ${manifest.artifact.sha256}`,
      );
    }
  }
  io.out(
    `ok: release ${manifest.version} (${manifest.channel}, ${manifest.compatibility.arch.join(', ')}) verifies ` +
      `against root v${chain.root.signed.version}${values.bundle ? `; bundle ${basename(values.bundle)} matches` : ''}`,
  );
}

async function upload(argv: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      token: { type: 'string' },
      manifest: { type: 'string' },
      bundle: { type: 'string' },
    },
  });
  const base = required(values.url, '--url FLEET_URL').replace(/\/+$/, '');
  const token = uploadCredential(values['api-key'], values.token);
  const release = await readJson<SignedRelease>(required(values.manifest, '--manifest FILE'), 'manifest');
  const bundle = required(values.bundle, '--bundle FILE');
  const { size } = await stat(bundle);
  const auth = { authorization: `Bearer ${token}` };

  const created = await fetch(`${base}/api/v1/releases`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(release),
  });
  const body = (await created.json().catch(() => ({}))) as { id?: string; message?: string; code?: string };
  if (created.status !== 201 || !body.id) {
    const refusal = `HTTP ${created.status} ${body.code ?? ''} ${body.message ?? ''}`.trim();
    if (created.status === 401 || created.status === 403) {
      throw new OtaError(
        'UPLOAD_REFUSED',
        `the fleet service refused the credentials: ${refusal}`,
        credentialHint(created.status),
      );
    }
    throw new OtaError(
      'INVALID_METADATA',
      `the fleet service refused the manifest: ${refusal}`,
      created.status === 409
        ? 'that version exists: build a new version'
        : 'check the trusted root and the manifest',
    );
  }
  io.out(`release ${release.signed.version} registered as ${body.id}; uploading ${formatBytes(size)}`);
  const put = await fetch(`${base}/api/v1/releases/${encodeURIComponent(body.id)}/artifact`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: Readable.toWeb(createReadStream(bundle)) as ReadableStream<Uint8Array>,
    duplex: 'half',
  });
  if (!put.ok) {
    const failure = (await put.json().catch(() => ({}))) as { message?: string; code?: string };
    if (put.status === 401 || put.status === 403) {
      throw new OtaError(
        'UPLOAD_REFUSED',
        `the fleet service refused the credentials: HTTP ${put.status} ${failure.code ?? ''} ${failure.message ?? ''}`.trim(),
        credentialHint(put.status),
      );
    }
    throw new OtaError(
      'INVALID_METADATA',
      `the fleet service refused the bundle: HTTP ${put.status} ${failure.message ?? ''}`.trim(),
      'upload the bundle built with this manifest, unchanged',
    );
  }
  io.out(`release ${release.signed.version} is ready`);
}

/** The bearer credential of an upload: an API key, else an admin's login token, from flags or the environment. */
function uploadCredential(apiKey: string | undefined, token: string | undefined): string {
  if (apiKey !== undefined && token !== undefined) {
    throw usage('both --api-key and --token given', 'pass one of them');
  }
  const key = apiKey ?? (token === undefined ? process.env.AGENTBOX_API_KEY : undefined);
  if (key !== undefined && key !== '') {
    if (!key.startsWith('abk_')) {
      throw usage(
        `${apiKey !== undefined ? '--api-key' : 'AGENTBOX_API_KEY'} is not an API key (abk_...)`,
        'create one in the console (API keys) or pass a login token with --token',
      );
    }
    return key;
  }
  const login = token ?? process.env.AGENTBOX_API_TOKEN;
  if (!login) {
    throw usage(
      'no credentials',
      'pass --api-key (or set AGENTBOX_API_KEY) with an admin API key from the console (API keys)',
    );
  }
  return login;
}

function credentialHint(status: number): string {
  return status === 401
    ? 'the key or token is unknown, revoked or expired: create a new admin API key in the console (API keys)'
    : 'publishing releases needs the admin role: use an admin API key';
}

// ------------------------------------------------------------------------------------------ helpers

function usage(message: string, hint: string): OtaError {
  return new OtaError('USAGE', message, hint);
}

function refused(reason: string, detail: string): OtaError {
  return new OtaError('INVALID_METADATA', `refused (${reason}): ${detail}`, 'the detail says what to change');
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw usage(`missing ${flag}`, 'run agentbox-release --help');
  return value;
}

function list(values: string[] | undefined, flag: string): string[] {
  const items = (values ?? [])
    .flatMap((value) => value.split(','))
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0 && flag) throw usage(`missing ${flag}`, 'run agentbox-release --help');
  return items;
}

function threshold(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw usage(`threshold "${value}" is not a positive integer`, 'e.g. 2');
  return parsed;
}

async function readPrivateKey(file: string): Promise<string> {
  const text = await readText(file, 'private key');
  publicKeyOfPrivate(text);
  return text;
}

/** A public key from a .pub.json, a private .pem (its public half) or a base64 raw key. */
async function readPublicKey(spec: string): Promise<string> {
  if (!existsSync(spec)) {
    keyIdOf(spec);
    return spec;
  }
  const text = await readText(spec, 'key');
  if (text.includes('PRIVATE KEY')) return publicKeyOfPrivate(text).publicKey;
  let json: { public?: unknown };
  try {
    json = JSON.parse(text) as { public?: unknown };
  } catch {
    throw new OtaError(
      'INVALID_KEY',
      `${spec} is neither a .pem nor a .pub.json key`,
      'use files from agentbox-release keygen',
    );
  }
  if (typeof json.public !== 'string') {
    throw new OtaError(
      'INVALID_KEY',
      `${spec} has no "public" key`,
      'use a .pub.json from agentbox-release keygen',
    );
  }
  keyIdOf(json.public);
  return json.public;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw usage(
      `cannot read ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      'check the path',
    );
  }
}

async function readJson<T = unknown>(file: string, what: string): Promise<T> {
  const text = await readText(file, what);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new OtaError(
      'INVALID_METADATA',
      `${file} is not JSON`,
      `pass the ${what} file written by agentbox-release`,
    );
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(resolve(file, '..'), { recursive: true });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}
