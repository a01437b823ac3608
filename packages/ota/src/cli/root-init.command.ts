import { parseArgs } from 'node:util';
import { signEnvelope } from '../envelope.js';
import { publicKeyOfPrivate } from '../keys.js';
import { OtaError } from '../ota-error.js';
import { createRootMetadata, verifyRoot } from '../root-metadata.js';
import {
  expiresAt,
  list,
  readPrivateKey,
  readPublicKey,
  required,
  threshold,
  writeJson,
  type CliIo,
} from './cli-support.js';

/** The flags that describe a root's keys and thresholds, taken by root init and root rotate. */
export const ROOT_METADATA_OPTIONS = {
  'root-key': { type: 'string', multiple: true },
  'release-key': { type: 'string', multiple: true },
  'root-threshold': { type: 'string' },
  'release-threshold': { type: 'string' },
  expires: { type: 'string' },
  out: { type: 'string' },
} as const;

/** `root init`: root metadata version 1, signed by the root keys, for boxes to pin at install. */
export async function rootInitCommand(argv: string[], io: CliIo, now: number): Promise<void> {
  const { values } = parseArgs({ args: argv, options: ROOT_METADATA_OPTIONS });
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
