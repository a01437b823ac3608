import { SignedRootSchema, type SignedRoot } from '@agentbox/schemas';
import { readJsonFile, writeFileAtomic } from '../../../common/atomic-file.js';
import type { OtaFlowState } from '../ota-state.js';
import { Stop, type FlowContext } from './flow-context.js';

/**
 * Step `verify`: the offered roots chain from the pinned one (each newer root pinned as it checks
 * out), then the release is signed by the newest root's release keys, not expired, not a downgrade and
 * for this architecture. Nothing is downloaded before this passes.
 */
export async function verifyStep(
  ctx: FlowContext,
  state: OtaFlowState,
  signal: AbortSignal,
): Promise<OtaFlowState> {
  await ctx.checkpoint('before-verify', signal);
  const { bootStatePath, trust, currentVersion, arch } = ctx.options;
  if (!bootStatePath) {
    throw new Stop(
      'rejected',
      undefined,
      'not installed with slots: the device agent does not run under the launcher (AGENTBOX_BOOT_STATE is not set)',
    );
  }
  const now = ctx.now();
  let root = await trustedRoot(ctx.rootPath);
  const previousRoots: SignedRoot[] = [];
  for (const next of [...state.offer.roots].sort((a, b) => a.signed.version - b.signed.version)) {
    if (next.signed.version <= root.signed.version) continue;
    const checked = trust.verifyRoot(root, next, now);
    if (!checked.ok)
      throw new Stop('rejected', checked.reason, `root ${next.signed.version}: ${checked.detail}`);
    previousRoots.push(root);
    root = checked.value;
    await writeFileAtomic(ctx.rootPath, JSON.stringify(root, null, 2), 0o644);
  }
  // Older roots only let a signature by a dropped key be named 'key-revoked' rather than 'unknown-key'.
  for (const older of state.offer.roots)
    if (older.signed.version < root.signed.version) previousRoots.push(older);
  const release = trust.verifyRelease(state.offer.release, root, {
    now,
    currentVersion,
    arch,
    previousRoots,
  });
  if (!release.ok) throw new Stop('rejected', release.reason, release.detail);
  return ctx.save(state, { step: 'download' });
}

async function trustedRoot(rootPath: string): Promise<SignedRoot> {
  let raw: unknown;
  try {
    raw = await readJsonFile(rootPath);
  } catch (error) {
    throw new Stop(
      'rejected',
      'unknown-key',
      `the pinned root ${rootPath} is unreadable: ${(error as Error).message}`,
    );
  }
  if (raw === undefined) {
    throw new Stop('rejected', 'unknown-key', `no root of trust pinned at ${rootPath}`);
  }
  const parsed = SignedRootSchema.safeParse(raw);
  if (!parsed.success) throw new Stop('rejected', 'unknown-key', `the pinned root ${rootPath} is invalid`);
  return parsed.data;
}
