import type { ReleaseManifest, SignedRelease, SignedRoot } from '@agentbox/schemas';

export type UpdateReason = NonNullable<import('@agentbox/schemas').UpdateStatusReport['reason']>;

export type TrustCheck<T> = { ok: true; value: T } | { ok: false; reason: UpdateReason; detail: string };

/** The release checks the update flow relies on (implemented by @agentbox/ota). */
export interface OtaTrust {
  /** `next` chains from `trusted` (version + 1, signed by both root key sets, not expired). */
  verifyRoot(trusted: SignedRoot, next: SignedRoot, now: number): TrustCheck<SignedRoot>;
  verifyRelease(
    release: SignedRelease,
    root: SignedRoot,
    context: { now: number; currentVersion: string; arch: string; previousRoots: readonly SignedRoot[] },
  ): TrustCheck<ReleaseManifest>;
  sha256File(path: string): Promise<string>;
  /** Unpacks a bundle into an empty directory, refusing anything that would land outside it. */
  unpackBundle(tarGz: string, dir: string): Promise<void>;
}
