import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { SignedRelease } from '@agentbox/schemas';
import { sha256File, verifyRelease, verifyRoot, verifyRootChain } from '@agentbox/ota';
import { list, parseFlags, readJson, refused, required, type CliIo } from './cli-support.js';

/** `verify`: what a box checks (root chain, manifest signatures and expiry, bundle size and sha256), offline. */
export async function verifyCommand(argv: string[], io: CliIo, now: number): Promise<void> {
  const values = parseFlags(argv, {
    root: { type: 'string' },
    roots: { type: 'string', multiple: true },
    manifest: { type: 'string' },
    bundle: { type: 'string' },
    'current-version': { type: 'string' },
    arch: { type: 'string' },
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
