import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  canonicalJson,
  type ReleaseManifest,
  type RootMetadata,
  type SignedRelease,
  type SignedRoot,
} from '@agentbox/schemas';

/**
 * The checks the fleet service applies to signed OTA metadata before storing it (docs/ota-security.md).
 * Boxes apply the same checks plus their own (downgrade, architecture, minimum version) on their side.
 */

export type MetadataFailure = 'bad-signature' | 'unknown-key' | 'key-revoked' | 'metadata-expired';

export type Verified<T> = { ok: true; value: T } | { ok: false; reason: MetadataFailure; detail: string };

interface Options {
  now: number;
  slackMs: number;
}

export function keyIdOf(publicKeyBase64: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('hex');
}

function signatureValid(signed: unknown, sig: string, publicKeyBase64: string): boolean {
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKeyBase64, 'base64').toString('base64url') },
      format: 'jwk',
    });
    return verify(null, Buffer.from(canonicalJson(signed), 'utf8'), key, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Counts distinct keys of `role` in `root` with a valid signature. A signature by a key the root does not
 * list makes the failure 'unknown-key' (or 'key-revoked' when an older root listed it for this role).
 */
function checkThreshold(
  envelope: { signed: unknown; signatures: Array<{ keyid: string; sig: string }> },
  root: RootMetadata,
  role: 'root' | 'release',
  formerKeyIds: ReadonlySet<string>,
): Verified<null> {
  const allowed = new Set(root.roles[role].keyids);
  const valid = new Set<string>();
  let badSignature = false;
  let unknown: string | undefined;
  let revoked: string | undefined;
  for (const { keyid, sig } of envelope.signatures) {
    const key = root.keys[keyid];
    if (!allowed.has(keyid) || !key) {
      if (formerKeyIds.has(keyid)) revoked ??= keyid;
      else unknown ??= keyid;
      continue;
    }
    if (keyIdOf(key.public) !== keyid) {
      badSignature = true;
      continue;
    }
    if (signatureValid(envelope.signed, sig, key.public)) valid.add(keyid);
    else badSignature = true;
  }
  const threshold = root.roles[role].threshold;
  if (valid.size >= threshold) return { ok: true, value: null };
  if (badSignature) {
    return { ok: false, reason: 'bad-signature', detail: `a ${role} signature does not match the document` };
  }
  if (revoked !== undefined) {
    return {
      ok: false,
      reason: 'key-revoked',
      detail: `key ${revoked} is no longer a ${role} key in root version ${root.version}`,
    };
  }
  if (unknown !== undefined) {
    return {
      ok: false,
      reason: 'unknown-key',
      detail: `key ${unknown} is not a ${role} key of the trusted root`,
    };
  }
  return {
    ok: false,
    reason: 'bad-signature',
    detail: `${valid.size} valid ${role} signatures, ${threshold} needed`,
  };
}

function expired(expires: string, { now, slackMs }: Options): boolean {
  return Date.parse(expires) + slackMs <= now;
}

/** The first root, trusted on an administrator's word: it only has to be signed by its own root keys. */
export function verifyInitialRoot(root: SignedRoot, options: Options): Verified<RootMetadata> {
  const signed = checkThreshold(root, root.signed, 'root', new Set());
  if (!signed.ok) return signed;
  if (expired(root.signed.expires, options)) {
    return { ok: false, reason: 'metadata-expired', detail: `root version ${root.signed.version} expired` };
  }
  return { ok: true, value: root.signed };
}

/** The next root: version + 1, signed by a threshold of the trusted root's root keys AND of its own. */
export function verifyRootUpdate(
  trusted: SignedRoot,
  next: SignedRoot,
  options: Options,
): Verified<RootMetadata> {
  if (next.signed.version !== trusted.signed.version + 1) {
    return {
      ok: false,
      reason: 'bad-signature',
      detail: `root version ${next.signed.version} does not follow ${trusted.signed.version}`,
    };
  }
  const byTrusted = checkThreshold(next, trusted.signed, 'root', new Set());
  if (!byTrusted.ok) return byTrusted;
  const byItself = checkThreshold(next, next.signed, 'root', new Set());
  if (!byItself.ok) return byItself;
  if (expired(next.signed.expires, options)) {
    return { ok: false, reason: 'metadata-expired', detail: `root version ${next.signed.version} expired` };
  }
  return { ok: true, value: next.signed };
}

/**
 * A release manifest against the latest trusted root: a threshold of its release keys, not expired.
 * `history` (the earlier roots) tells a revoked key from one never seen.
 */
export function verifyReleaseSignature(
  release: SignedRelease,
  trusted: SignedRoot,
  history: readonly SignedRoot[],
  options: Options,
): Verified<ReleaseManifest> {
  const former = new Set(history.flatMap((root) => root.signed.roles.release.keyids));
  const signed = checkThreshold(release, trusted.signed, 'release', former);
  if (!signed.ok) return signed;
  if (expired(trusted.signed.expires, options)) {
    return {
      ok: false,
      reason: 'metadata-expired',
      detail: `trusted root version ${trusted.signed.version} expired`,
    };
  }
  if (expired(release.signed.expires, options)) {
    return { ok: false, reason: 'metadata-expired', detail: `release ${release.signed.version} expired` };
  }
  return { ok: true, value: release.signed };
}
