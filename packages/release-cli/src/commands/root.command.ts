import type { SignedRoot } from '@agentbox/schemas';
import {
  createRootMetadata,
  OtaError,
  publicKeyOfPrivate,
  signEnvelope,
  verifyRoot,
  verifyRootUpdate,
} from '@agentbox/ota';
import {
  expiresAt,
  list,
  parseFlags,
  readJson,
  readPrivateKey,
  readPublicKey,
  required,
  threshold,
  writeJson,
  type CliIo,
} from './cli-support.js';

/** The flags that describe a root's keys and thresholds, taken by root init and root rotate. */
const ROOT_METADATA_OPTIONS = {
  'root-key': { type: 'string', multiple: true },
  'release-key': { type: 'string', multiple: true },
  'root-threshold': { type: 'string' },
  'release-threshold': { type: 'string' },
  expires: { type: 'string' },
  out: { type: 'string' },
} as const;

/** `root init`: root metadata version 1, signed by the root keys, for boxes to pin at install. */
export async function rootInitCommand(argv: string[], io: CliIo, now: number): Promise<void> {
  const values = parseFlags(argv, ROOT_METADATA_OPTIONS);
  const out = required(values.out, '--out root.json');
  const rootPems = await Promise.all(list(values['root-key'], '--root-key ROOT.pem').map(readPrivateKey));
  const releaseKeys = await Promise.all(list(values['release-key'], '--release-key KEY').map(readPublicKey));
  const root = createRootMetadata({
    version: 1,
    expires: expiresAt(now, values.expires, '365d'),
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

/**
 * `root rotate`: the next root version (keys not given stay as they are), signed by a threshold of the
 * current root keys and of the new ones.
 */
export async function rootRotateCommand(argv: string[], io: CliIo, now: number): Promise<void> {
  const values = parseFlags(argv, {
    root: { type: 'string' },
    sign: { type: 'string', multiple: true },
    ...ROOT_METADATA_OPTIONS,
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
    expires: expiresAt(now, values.expires, '365d'),
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
