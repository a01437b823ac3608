import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ARCHITECTURES, RELEASE_CHANNELS, type SignedRoot } from '@agentbox/schemas';
import {
  buildBundle,
  createReleaseManifest,
  isValidVersion,
  OtaError,
  signEnvelope,
  verifyRelease,
} from '@agentbox/ota';
import {
  expiresAt,
  formatBytes,
  list,
  parseFlags,
  readJson,
  readPrivateKey,
  required,
  usage,
  writeJson,
  type CliIo,
} from './cli-support.js';

/** `build`: the device agent's bundle and its signed manifest, checked against --root when given. */
export async function buildCommand(argv: string[], io: CliIo, now: number): Promise<void> {
  const values = parseFlags(argv, {
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
    expires: expiresAt(now, values.expires, '180d'),
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
