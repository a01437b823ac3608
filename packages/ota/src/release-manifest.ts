import {
  ReleaseManifestSchema,
  SignedReleaseSchema,
  type ARCHITECTURES,
  type ReleaseManifest,
  type SignedRoot,
} from '@agentbox/schemas';
import { rawEnvelope, verifySignature, verifySignatures } from './envelope.js';
import { compareVersions } from './versions.js';
import { expiryProblem, signatureFailure, type ClockOptions, type Verified } from './verification.js';

export type Architecture = (typeof ARCHITECTURES)[number];

export interface VerifyReleaseOptions extends ClockOptions {
  /** The version the box runs; without it (on the fleet service) the version checks are skipped. */
  currentVersion?: string;
  /** The box's architecture (`process.arch`); without it the architecture check is skipped. */
  arch?: string;
  /**
   * Older roots the verifier has seen. Only used to report a signature by a key the latest root dropped
   * as 'key-revoked' rather than 'unknown-key'; they never make a signature count.
   */
  previousRoots?: readonly SignedRoot[];
}

/**
 * Verifies a signed release against the latest verified root, in the order TUF prescribes: signatures
 * before anything in the manifest is believed, then freshness, then whether this box may take it.
 */
export function verifyRelease(
  candidate: unknown,
  trustedRoot: SignedRoot,
  options: VerifyReleaseOptions = {},
): Verified<{ manifest: ReleaseManifest }> {
  const parsed = SignedReleaseSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'bad-signature',
      detail:
        `release manifest is malformed (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}): ` +
        'use the .manifest.json written by agentbox-release build, unedited',
    };
  }
  const raw = rawEnvelope(candidate, parsed.data);
  const root = trustedRoot.signed;
  const check = verifySignatures(raw, root.keys, root.roles.release);
  if (!check.ok) {
    const revoked = revokedSigner(raw, check.unknown, options.previousRoots ?? [], root.version);
    if (revoked) {
      return {
        ok: false,
        reason: 'key-revoked',
        detail:
          `release is signed by key ${revoked.keyid.slice(0, 12)}, which root v${revoked.version} listed but ` +
          `the trusted root v${root.version} no longer does: re-sign the release with a current release key`,
      };
    }
    return { ok: false, ...signatureFailure('release', check) };
  }
  const manifest = parsed.data.signed;
  const rootExpired = expiryProblem(`root v${root.version}`, root.expires, options);
  if (rootExpired) return { ok: false, reason: 'metadata-expired', detail: rootExpired };
  const expired = expiryProblem(`release ${manifest.version}`, manifest.expires, options);
  if (expired) return { ok: false, reason: 'metadata-expired', detail: expired };

  if (
    options.arch !== undefined &&
    !(manifest.compatibility.arch as readonly string[]).includes(options.arch)
  ) {
    return {
      ok: false,
      reason: 'incompatible-arch',
      detail:
        `release ${manifest.version} is built for ${manifest.compatibility.arch.join(', ')}, this box is ` +
        `${options.arch}: build the release for ${options.arch} too`,
    };
  }
  const current = options.currentVersion;
  if (current !== undefined) {
    const minimum = manifest.compatibility.minCurrentVersion;
    if (minimum !== undefined && compareVersions(current, minimum) < 0) {
      return {
        ok: false,
        reason: 'version-too-old',
        detail:
          `release ${manifest.version} needs a box on ${minimum} or later, this one runs ${current}: ` +
          `roll out an intermediate release (at least ${minimum}) first`,
      };
    }
    if (compareVersions(manifest.version, current) <= 0 && !manifest.rollbackTarget) {
      return {
        ok: false,
        reason: 'downgrade',
        detail:
          `release ${manifest.version} is not newer than the running ${current}: to go back on purpose, ` +
          'build it again with --rollback-target so the release key signs the downgrade',
      };
    }
  }
  return { ok: true, manifest };
}

/** Normalizes and validates a manifest before signing, so the signed bytes are what verifiers parse. */
export function createReleaseManifest(input: unknown): ReleaseManifest {
  return ReleaseManifestSchema.parse(input);
}

function revokedSigner(
  envelope: { signed: unknown; signatures: readonly { keyid: string; sig: string }[] },
  unknownKeyids: readonly string[],
  previousRoots: readonly SignedRoot[],
  latestVersion: number,
): { keyid: string; version: number } | undefined {
  const older = [...previousRoots]
    .filter((root) => root.signed.version < latestVersion)
    .sort((a, b) => b.signed.version - a.signed.version);
  for (const keyid of unknownKeyids) {
    for (const root of older) {
      const key = root.signed.keys[keyid];
      if (!key || !root.signed.roles.release.keyids.includes(keyid)) continue;
      const signature = envelope.signatures.find((item) => item.keyid === keyid);
      if (signature && verifySignature(envelope.signed, key.public, signature.sig)) {
        return { keyid, version: root.signed.version };
      }
    }
  }
  return undefined;
}
