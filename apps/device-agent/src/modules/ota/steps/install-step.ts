import { join } from 'node:path';
import { mkdir, rename, rm } from 'node:fs/promises';
import { sleepOrThrow } from '@agentbox/retry';
import { otherSlot, writeSlotInfo } from '@agentbox/launcher/boot-state';
import { readJsonFile } from '../../../common/atomic-file.js';
import type { OtaFlowState } from '../ota-state.js';
import { Stop, bootStateAt, exists, inWindow, type FlowContext } from './flow-context.js';

/**
 * Step `install`: once the maintenance window is open, unpacks the bundle into a staging dir beside
 * the inactive slot, checks it is the device agent of the offered version, writes its slot.json last,
 * and only then renames it over the inactive slot. The running slot is never touched.
 */
export async function installStep(
  ctx: FlowContext,
  state: OtaFlowState,
  signal: AbortSignal,
): Promise<OtaFlowState> {
  // Downloaded at once, installed only inside the window: until then the inactive slot is not touched
  // and the box stays at `downloaded`, where the offer can still be withdrawn.
  await waitForWindow(ctx, state, signal);
  const bootStatePath = ctx.options.bootStatePath!;
  const boot = bootStateAt(bootStatePath);
  const slot = state.slot ?? otherSlot(boot.active);
  if (slot === boot.active || slot === ctx.options.runningSlot) {
    throw new Stop('failed', 'unpack-failed', `slot ${slot} is the one running; refusing to overwrite it`);
  }
  if (!state.slot) state = await ctx.save(state, { slot });
  await ctx.report(state, 'installing', undefined, `unpacking into slot ${slot}`);
  const { artifact } = state.offer.release.signed;
  const bundle = join(ctx.downloadDir, `${artifact.sha256}.tar.gz`);
  const slotsDir = join(ctx.options.stateDir, 'slots');
  const staging = join(slotsDir, `.${slot}.staging`);
  const target = join(slotsDir, slot);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await ctx.options.trust.unpackBundle(bundle, staging);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw new Stop('failed', 'unpack-failed', (error as Error).message);
  }
  const pkg = (await readJsonFile(join(staging, 'package.json')).catch(() => undefined)) as
    { version?: unknown } | undefined;
  if (pkg?.version !== state.version || !(await exists(join(staging, 'dist', 'main.js')))) {
    await rm(staging, { recursive: true, force: true });
    throw new Stop(
      'failed',
      'unpack-failed',
      `the bundle is not device agent ${state.version} (package.json version ${String(pkg?.version)}, dist/main.js ${pkg ? 'checked' : 'missing'})`,
    );
  }
  // Written last: the launcher takes a slot without a valid slot.json for unusable.
  writeSlotInfo(staging, { version: state.version, installedAt: ctx.now() });
  // The inactive slot is replaced only once the new one is complete, by renames.
  await rm(target, { recursive: true, force: true });
  await rename(staging, target);
  return ctx.save(state, { step: 'switch' });
}

async function waitForWindow(ctx: FlowContext, state: OtaFlowState, signal: AbortSignal): Promise<void> {
  const window = state.offer.policy.maintenanceWindow;
  let logged = false;
  while (!inWindow(window, ctx.minuteOfDay())) {
    if (!logged) {
      ctx.logger.log('update downloaded; waiting for the maintenance window', {
        version: state.version,
        window,
      });
      logged = true;
    }
    await sleepOrThrow(ctx.pollMs ?? 5_000, signal);
  }
}
