import { SignedRootSchema, type RootMetadata, type SignedRoot } from '@agentbox/schemas';
import { rawEnvelope, verifySignatures, type RawEnvelope } from './envelope.js';
import { keyIdOf } from './keys.js';
import { OtaError } from './ota-error.js';
import { expiryProblem, signatureFailure, type ClockOptions, type Verified } from './verification.js';

export interface RootInput {
  version: number;
  /** ISO 8601 instant. */
  expires: string;
  /** Base64 raw Ed25519 public keys. */
  rootKeys: readonly string[];
  releaseKeys: readonly string[];
  rootThreshold?: number;
  releaseThreshold?: number;
}

/** Builds (unsigned) root metadata, refusing one that could never verify. */
export function createRootMetadata(input: RootInput): RootMetadata {
  const keys: RootMetadata['keys'] = {};
  const idsOf = (list: readonly string[]) =>
    [...new Set(list)].map((publicKey) => {
      const keyid = keyIdOf(publicKey);
      keys[keyid] = { type: 'ed25519', public: publicKey };
      return keyid;
    });
  const rootIds = idsOf(input.rootKeys);
  const releaseIds = idsOf(input.releaseKeys);
  const root: RootMetadata = {
    type: 'root',
    version: input.version,
    expires: new Date(input.expires).toISOString(),
    keys,
    roles: {
      root: { keyids: rootIds, threshold: input.rootThreshold ?? 1 },
      release: { keyids: releaseIds, threshold: input.releaseThreshold ?? 1 },
    },
  };
  const problem = rootStructureProblem(root);
  if (problem) throw new OtaError('INVALID_METADATA', problem, 'list at least as many keys as the threshold');
  return root;
}

/**
 * Checks a root on its own: structure, a threshold of its own root keys, expiry. For the root a box pins
 * at install and the one the fleet service loads from a file.
 */
export function verifyRoot(candidate: unknown, options: ClockOptions = {}): Verified<{ root: SignedRoot }> {
  const parsed = parseRoot(candidate);
  if (!parsed.ok) return parsed;
  const { root } = parsed;
  const own = verifySignatures(parsed.raw, root.signed.keys, root.signed.roles.root);
  if (!own.ok) return { ok: false, ...signatureFailure(`root v${root.signed.version}`, own) };
  const expired = expiryProblem(`root v${root.signed.version}`, root.signed.expires, options);
  if (expired) return { ok: false, reason: 'metadata-expired', detail: expired };
  return { ok: true, root };
}

/**
 * One step of root rotation: `next` must be version trusted + 1, signed by a threshold of the trusted
 * root's root keys (so a stolen new key cannot rotate alone) and of its own root keys (so the new key
 * holders accept it), and not expired.
 */
export function verifyRootUpdate(
  trusted: SignedRoot,
  next: unknown,
  options: ClockOptions & { checkExpiry?: boolean } = {},
): Verified<{ root: SignedRoot }> {
  const parsed = parseRoot(next);
  if (!parsed.ok) return parsed;
  const candidate = parsed.root;
  const from = trusted.signed.version;
  const to = candidate.signed.version;
  if (to <= from) {
    return {
      ok: false,
      reason: 'downgrade',
      detail: `root v${to} is not newer than the trusted root v${from}: only newer roots are accepted`,
    };
  }
  if (to !== from + 1) {
    return {
      ok: false,
      reason: 'bad-signature',
      detail:
        `root v${to} does not follow the trusted root v${from}: supply every root in between, ` +
        'oldest first, each signed by its predecessor',
    };
  }
  const byOld = verifySignatures(parsed.raw, trusted.signed.keys, trusted.signed.roles.root);
  if (!byOld.ok) {
    return { ok: false, ...signatureFailure(`root v${to} (keys of the trusted root v${from})`, byOld) };
  }
  const byNew = verifySignatures(parsed.raw, candidate.signed.keys, candidate.signed.roles.root);
  if (!byNew.ok) return { ok: false, ...signatureFailure(`root v${to} (its own root keys)`, byNew) };
  if (options.checkExpiry ?? true) {
    const expired = expiryProblem(`root v${to}`, candidate.signed.expires, options);
    if (expired) return { ok: false, reason: 'metadata-expired', detail: expired };
  }
  return { ok: true, root: candidate };
}

/**
 * Walks a chain of roots from a trusted one, oldest first. Roots not newer than the trusted one are
 * skipped (the box already has them). As in TUF, an intermediate root may have expired (a box that was
 * off for a year must still be able to catch up); the newest must not have.
 */
export function verifyRootChain(
  trusted: SignedRoot,
  chain: readonly unknown[],
  options: ClockOptions = {},
): Verified<{ root: SignedRoot; accepted: SignedRoot[] }> {
  let current = trusted;
  const accepted: SignedRoot[] = [];
  for (const item of chain) {
    const version = (item as { signed?: { version?: unknown } } | null)?.signed?.version;
    if (typeof version === 'number' && version <= current.signed.version) continue;
    const step = verifyRootUpdate(current, item, { ...options, checkExpiry: false });
    if (!step.ok) return step;
    current = step.root;
    accepted.push(current);
  }
  const expired = expiryProblem(`root v${current.signed.version}`, current.signed.expires, options);
  if (expired) return { ok: false, reason: 'metadata-expired', detail: expired };
  return { ok: true, root: current, accepted };
}

/** The parsed root, and the envelope as received: signatures cover the bytes that were signed. */
function parseRoot(candidate: unknown): Verified<{ root: SignedRoot; raw: RawEnvelope }> {
  const parsed = SignedRootSchema.safeParse(candidate);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'bad-signature',
      detail: `root metadata is malformed (${parsed.error.issues[0]?.message ?? 'invalid'}): use a root.json written by agentbox-release`,
    };
  }
  const problem = rootStructureProblem(parsed.data.signed);
  if (problem) return { ok: false, reason: 'bad-signature', detail: problem };
  // The root schema has no defaults, so the document as received is a valid SignedRoot; keeping it
  // (rather than the parsed copy without unknown fields) keeps its signatures valid when it is stored.
  const root = candidate as SignedRoot;
  return { ok: true, root, raw: rawEnvelope(candidate, parsed.data) };
}

function rootStructureProblem(root: RootMetadata): string | undefined {
  for (const [name, role] of Object.entries(root.roles)) {
    const missing = role.keyids.filter((id) => !root.keys[id]);
    if (missing.length > 0)
      return `root v${root.version}: role ${name} lists key ${missing[0]} without its public key`;
    if (new Set(role.keyids).size < role.threshold) {
      return `root v${root.version}: role ${name} needs ${role.threshold} signatures but lists ${new Set(role.keyids).size} key(s)`;
    }
  }
  return undefined;
}
