import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readBootState, readSlotInfo, type BootState } from '@agentbox/launcher/boot-state';
import { BirthMessageSchema } from '@agentbox/schemas';
import { OtaStateStore, type FlowStep, type OtaFlowState } from '../src/modules/ota/ota-state.js';
import { ensureBuilt } from './support/device-agent-process.js';
import { waitFor } from './support/fake-fleet.js';
import {
  Box,
  BundleServer,
  artifactPath,
  boxEnv,
  buildSlimBundle,
  builtDeviceAgentVersion,
  bumpMinor,
  installBox,
  updateOffer,
  workDirInRepo,
  withoutRepeats,
  type BundleFile,
  type InstalledBox,
} from './support/ota-box.js';
import { useOtaSuite } from './support/ota-suite.js';

/**
 * Crash safety of the box's update flow with real processes: the real launcher runs the real device agent
 * from its slots, and the device agent is killed with SIGKILL (alone: a crash the launcher restarts it from; or
 * together with the launcher: a power loss, after which the test starts the launcher again as systemd
 * would) at every step of one update from X to Y. Each restart must go on from where the box was, never
 * download from byte 0 again, never boot a half-unpacked slot, keep the old slot intact until the commit,
 * and end with the box running Y, committed, and saying so over MQTT. Then an offer with a closed
 * maintenance window: downloaded at once, installed only once the window opens.
 *
 * The bundles hold the real built device agent without node_modules (the box lives below the repository's
 * node_modules, where Node finds them), started through the test entry support/ota-box-main.ts: steps that
 * last milliseconds (verifying the metadata, checking the downloaded bundle, the moment between the commit
 * and its report) are held at the flow's checkpoint named by AGENTBOX_OTA_TEST_HOLD_AT; the others are
 * caught by watching the real state: the bytes of the partial download (the bundle server is throttled),
 * the unpack's staging dir, boot.json. The maintenance window reads the box's local time from a file
 * (AGENTBOX_OTA_TEST_LOCAL_TIME_FILE), so the test opens it when it wants. ota.e2e.spec.ts covers a
 * self-contained bundle started through src/main.ts.
 */

const KIB = 1024;
const HELD = 'update flow held by a test hook';
const WINDOW = { start: '02:00', end: '04:00' };

/** Polls every few ms: some of the states watched here last well under a second. */
const waitFast = <T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> =>
  waitFor(check, timeoutMs, what, 3);

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/** Every file of a slot with its sha256: "intact" means this does not change. */
function fingerprint(dir: string): string {
  const hash = createHash('sha256');
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else
        hash.update(
          `${relative(dir, path)}\0${createHash('sha256').update(readFileSync(path)).digest('hex')}\n`,
        );
    }
  };
  walk(dir);
  return hash.digest('hex');
}

describe('kill -9 and power loss at every step of a box update; the maintenance window', () => {
  const { fleet, view, keys } = useOtaSuite(() => ({ box, server, work }));
  let work: string;
  let installed: InstalledBox;
  let store: OtaStateStore;
  let clockFile: string;
  let x: BundleFile;
  let y: BundleFile;
  let z: BundleFile;
  let server: BundleServer;
  let box: Box;
  let slotA: string;
  let slotAPrint: string;
  /** Of the pending boot when the power went out after the switch was written. */
  let attemptsAtPowerLoss = 0;

  const boot = (): BootState => {
    const state = readBootState(installed.bootPath);
    if (!state) throw new Error('boot.json is missing');
    return state;
  };
  /** state.json as the device agent last persisted it (read synchronously, so it can be polled fast). */
  const flowState = (): OtaFlowState | undefined => {
    try {
      return JSON.parse(readFileSync(store.path, 'utf8')) as OtaFlowState;
    } catch {
      return undefined;
    }
  };
  const step = (): FlowStep | undefined => flowState()?.step;
  /** A device agent process logged that it runs after log line `since` (the launcher restarted one). */
  const restarted = (since: number) =>
    waitFor(
      () => box.logs.slice(since).some((line) => line.msg === 'device agent running'),
      30_000,
      'a restarted device agent',
    );
  /**
   * Kills armed before the restart they watch, each with what it saw at once, so a short step cannot
   * pass while a test still waits for a report.
   */
  let killDuringUnpack:
    | Promise<{
        logsAtKill: number;
        stagingComplete: boolean;
        stagingFiles: number;
        slotB: unknown;
        boot: BootState;
        step: FlowStep | undefined;
        slotAPrint: string;
      }>
    | undefined;
  let powerLossWhenPending: Promise<NonNullable<BootState['pending']>> | undefined;
  const armed = <T>(promise: Promise<T>): Promise<T> => {
    promise.catch(() => undefined); // the test that awaits it reports the failure
    return promise;
  };
  const heldAt = (point: string, notPid?: number) =>
    box.logsWith(HELD).find((line) => line.point === point && line.pid !== notPid);
  const launcherSaid = (text: string) => box.output.split(text).length - 1;

  /** A new `up/state` from a running device agent of `version`: the box is back and says what it runs. */
  const backOnline = async (version: string, statesBefore: number) => {
    await waitFor(
      () => view.reportedDeviceAgentVersions().slice(statesBefore).includes(version),
      30_000,
      `up/state with agentVersion ${version}`,
    );
  };

  /** What must hold after every interruption before the commit. */
  const expectOldSlotIntact = () => {
    expect(boot().active).toBe('a');
    expect(readSlotInfo(installed.bootPath, 'a')?.version).toBe(x.version);
    expect(fingerprint(slotA)).toBe(slotAPrint);
  };

  beforeAll(async () => {
    ensureBuilt();
    work = await workDirInRepo('ota-kill-e2e');
    const current = await builtDeviceAgentVersion();
    [x, y, z] = await Promise.all([
      buildSlimBundle(current, join(work, 'bundles', 'x.tar.gz'), { otaTestMain: true }),
      // Incompressible filler: a download worth throttling and an unpack that lasts long enough to kill.
      buildSlimBundle(bumpMinor(current, 1), join(work, 'bundles', 'y.tar.gz'), {
        filler: { files: 1_500, bytesEach: 2 * KIB },
        otaTestMain: true,
      }),
      buildSlimBundle(bumpMinor(current, 2), join(work, 'bundles', 'z.tar.gz'), { otaTestMain: true }),
    ]);
    installed = await installBox(work, x.path, keys);
    store = new OtaStateStore(installed.stateDir);
    slotA = join(installed.stateDir, 'slots', 'a');
    slotAPrint = fingerprint(slotA);
    clockFile = join(work, 'local-time');
    await writeFile(clockFile, '12:00\n');

    server = await BundleServer.offering(y, z).start();
    await fleet.start();
    box = new Box(installed.launcherPath, {
      ...boxEnv(installed, fleet, 'ota-kill-box'),
      AGENTBOX_OTA_TEST_LOCAL_TIME_FILE: clockFile,
    }).start({ AGENTBOX_OTA_TEST_HOLD_AT: 'before-verify' });
  }, 120_000);

  it('the installed box runs X from slot a', async () => {
    const birth = await waitFor(() => fleet.messages('/up/birth')[0], 30_000, 'birth of X');
    view.deviceId = (
      JSON.parse(readFileSync(join(installed.stateDir, 'credentials.json'), 'utf8')) as { deviceId: string }
    ).deviceId;
    expect(BirthMessageSchema.parse(birth.json).agentVersion).toBe(x.version);
    await backOnline(x.version, 0);
  }, 40_000);

  describe('the update to Y, interrupted at every step', () => {
    it('power loss while the release is being verified: nothing downloaded, verified again at the next boot', async () => {
      server.throttle = { bytesPerTick: 16 * KIB, tickMs: 20 };
      await view.desire(updateOffer(keys, server, y, 'rollout-y', { healthDeadlineSec: 30 }));
      await waitFor(() => heldAt('before-verify'), 20_000, 'the flow at before-verify');
      expect(step()).toBe('verify');

      await box.powerLoss();
      expect(server.requestsFor(artifactPath(y))).toEqual([]);
      expect(boot().pending).toBeNull();
      expectOldSlotIntact();
      box.start({ AGENTBOX_OTA_TEST_HOLD_AT: 'before-bundle-check' });
    }, 40_000);

    it('kill -9 of the device agent mid-download: the launcher restarts it and the download resumes with Range', async () => {
      const part = join(installed.stateDir, 'ota', 'download', `${y.sha256}.part`);
      await waitFast(() => sizeOf(part) >= 128 * KIB, 30_000, 'the first bytes of Y on disk');
      const statesBefore = view.reportedDeviceAgentVersions().length;
      const killed = await box.killDeviceAgent();
      const have = sizeOf(part);
      expect(have).toBeGreaterThanOrEqual(128 * KIB);
      expect(have).toBeLessThan(y.bytes.length);
      expect(server.requestsFor(artifactPath(y)).map((request) => request.range)).toEqual([undefined]);
      server.throttle = undefined;

      await waitFor(() => heldAt('before-bundle-check', killed), 30_000, 'the whole of Y on disk');
      await backOnline(x.version, statesBefore);
      const requests = server.requestsFor(artifactPath(y));
      // Resumed from the bytes the killed process left on disk: nothing before them travelled again.
      expect(requests.map((request) => request.range)).toEqual([undefined, `bytes=${have}-`]);
      expect(requests[1]!.sent).toBe(y.bytes.length - have);
      expect(sizeOf(part)).toBe(y.bytes.length);
      expect(step()).toBe('download');
      expect(boot().pending).toBeNull();
      expectOldSlotIntact();
    }, 60_000);

    it('power loss with every byte on disk, before the size and sha256 check: checked at the next boot, not downloaded again', async () => {
      await box.powerLoss();
      const staging = join(installed.stateDir, 'slots', '.b.staging');
      killDuringUnpack = armed(
        waitFast(() => existsSync(join(staging, 'filler')), 30_000, 'the unpack into slot b').then(
          async () => {
            await box.killDeviceAgent();
            const seen = {
              logsAtKill: box.logs.length,
              stagingComplete: existsSync(join(staging, 'slot.json')),
              stagingFiles: readdirSync(join(staging, 'filler')).length,
              slotB: readSlotInfo(installed.bootPath, 'b'),
              boot: boot(),
              step: step(),
              slotAPrint: fingerprint(slotA),
            };
            // The restarted device agent unpacks again and marks slot b pending: power loss right then.
            powerLossWhenPending = armed(
              waitFast(() => boot().pending ?? undefined, 30_000, 'slot b pending').then(async (pending) => {
                await box.powerLoss();
                return pending;
              }),
            );
            return seen;
          },
        ),
      );
      box.start();
      const downloaded = await waitFor(
        () => view.updateReports('rollout-y').find((report) => report.status === 'downloaded'),
        30_000,
        'downloaded report for Y',
      );
      expect(downloaded.progress).toEqual({ bytes: y.bytes.length, total: y.bytes.length });
      expect(server.requestsFor(artifactPath(y))).toHaveLength(2);
    }, 40_000);

    it('kill -9 while unpacking into slot b: the half-written slot is never booted, the unpack is redone', async () => {
      const seen = await killDuringUnpack!;
      // Killed midway: staging is incomplete (slot.json is written last), slot b does not exist, nothing pending.
      expect(seen.stagingComplete).toBe(false);
      expect(seen.stagingFiles).toBeLessThan(1_500);
      expect(seen.slotB).toBeNull();
      expect(seen.boot).toMatchObject({ active: 'a', pending: null });
      expect(seen.step).toBe('install');
      expect(seen.slotAPrint).toBe(slotAPrint);
      // The launcher starts the old slot again, which unpacks again.
      await restarted(seen.logsAtKill);
      expect(launcherSaid('starting pending slot b')).toBe(0);
    }, 40_000);

    it('power loss once slot b is marked pending, before or at the switch: the next boot starts slot b', async () => {
      const pending = await powerLossWhenPending!;
      expect(pending).toMatchObject({ slot: 'b', version: y.version, rolloutId: 'rollout-y' });
      const after = boot();
      expect(after.pending).toMatchObject({ slot: 'b', version: y.version });
      // 0: lost before the device agent exited for the switch; 1: while the launcher was starting slot b.
      attemptsAtPowerLoss = after.pending!.attempts;
      expect(attemptsAtPowerLoss).toBeLessThanOrEqual(1);
      // Complete before it was named: unpacked, checked, slot.json last; the staging dir renamed away.
      expect(readSlotInfo(installed.bootPath, 'b')?.version).toBe(y.version);
      expect(existsSync(join(installed.stateDir, 'slots', '.b.staging'))).toBe(false);
      expect(readdirSync(join(installed.stateDir, 'slots', 'b', 'filler'))).toHaveLength(1_500);
      expectOldSlotIntact();
      expect(step()).toBe('switch');

      // The cloud is unreachable during the next boot, so Y cannot prove healthy before it is killed.
      await fleet.stopBroker();
      box.start({ AGENTBOX_OTA_TEST_HOLD_AT: 'after-commit' });
    }, 40_000);

    it('kill -9 during the first boot of slot b, before the commit: the attempt counts and slot b boots again', async () => {
      const attempt = attemptsAtPowerLoss + 1;
      await waitFor(
        () => box.output.includes(`starting pending slot b (${y.version}), attempt ${attempt} of 3`),
        20_000,
        'the launcher starting slot b',
      );
      await waitFor(() => step() === 'trial', 20_000, 'Y on probation');
      const killed = await box.killDeviceAgent();
      await waitFor(() => boot().pending?.lastFailure, 10_000, 'the launcher recording the failure');
      expect(boot().pending).toMatchObject({
        slot: 'b',
        version: y.version,
        attempts: attempt,
        lastFailure: { reason: 'crashed' },
      });
      expect(boot().last).toBeNull();
      expectOldSlotIntact();
      expect(view.statuses('rollout-y')).not.toContain('healthy');

      await fleet.startBroker();
      await waitFor(() => heldAt('after-commit', killed), 40_000, 'Y committed');
    }, 60_000);

    it('power loss after the commit, before the healthy report: the next boot reports healthy from slot b', async () => {
      expect(boot()).toMatchObject({
        active: 'b',
        pending: null,
        last: { result: 'committed', slot: 'b', version: y.version, rolloutId: 'rollout-y' },
      });
      expect(step()).toBe('trial');
      expect(view.statuses('rollout-y')).not.toContain('healthy');

      await box.powerLoss();
      const statesBefore = view.reportedDeviceAgentVersions().length;
      box.start();
      const healthy = await waitFor(
        () => view.updateReports('rollout-y').find((report) => report.status === 'healthy'),
        30_000,
        'healthy report for Y',
      );
      expect(healthy).toMatchObject({ version: y.version, runningVersion: y.version });
      await backOnline(y.version, statesBefore);
      expect(view.reportedDeviceAgentVersions().at(-1)).toBe(y.version);

      const statuses = view.statuses('rollout-y');
      expect(statuses).toEqual(
        expect.arrayContaining(['downloading', 'downloaded', 'installing', 'healthy']),
      );
      expect(
        statuses.filter((status) => ['rolled-back', 'failed', 'rejected', 'canceled'].includes(status)),
      ).toEqual([]);
      await waitFor(() => flowState()?.final?.status === 'healthy', 10_000, 'the final state saved');
      // Marked once the report is queued, which is just after it may already have arrived.
      await waitFor(() => boot().last?.reportedAt, 10_000, 'the commit marked reported');
      // Two boots of slot b on probation (the power loss may have taken a third), none before it was complete.
      expect(launcherSaid('starting pending slot b')).toBe(2 + attemptsAtPowerLoss);
      expect(launcherSaid('starting slot b')).toBeGreaterThanOrEqual(1);
      // Over the whole update: one full download, once resumed; the old slot kept as the fallback.
      expect(server.requestsFor(artifactPath(y))).toHaveLength(2);
      expect(fingerprint(slotA)).toBe(slotAPrint);
      expect(box.deviceAgentPid()).toBeDefined();
    }, 60_000);
  });

  it('a closed maintenance window: Z downloads at once and waits at downloaded (through a kill -9); installs once the window opens', async () => {
    await writeFile(clockFile, '12:00\n');
    const yPrint = fingerprint(join(installed.stateDir, 'slots', 'b'));
    await view.desire(
      updateOffer(keys, server, z, 'rollout-z', { maintenanceWindow: WINDOW, healthDeadlineSec: 30 }),
    );
    const downloaded = await waitFor(
      () => view.updateReports('rollout-z').find((report) => report.status === 'downloaded'),
      30_000,
      'downloaded report for Z',
    );
    expect(downloaded).toMatchObject({
      runningVersion: y.version,
      detail: 'installs in the maintenance window 02:00-04:00 (box local time)',
    });

    // A crash while waiting changes nothing: the restarted device agent waits again without downloading again.
    const statesBefore = view.reportedDeviceAgentVersions().length;
    const killed = await box.killDeviceAgent();
    await waitFor(
      () =>
        box.logs.some(
          (line) =>
            line.msg === 'update downloaded; waiting for the maintenance window' && line.pid !== killed,
        ),
      30_000,
      'the restarted device agent waiting for the window',
    );
    await backOnline(y.version, statesBefore);
    // Longer than the flow's 5 s poll: still closed, so still nothing installed.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    // `downloaded` may come twice: the restarted device agent says again where it stands unless the first process
    // had persisted that report before the kill (reports are at least once; the fleet keeps the furthest).
    expect(withoutRepeats(view.statuses('rollout-z').filter((status) => status !== 'downloading'))).toEqual([
      'downloaded',
    ]);
    expect(step()).toBe('install');
    expect(existsSync(join(installed.stateDir, 'slots', '.a.staging'))).toBe(false);
    expect(fingerprint(slotA)).toBe(slotAPrint); // the inactive slot, untouched while the window is closed
    expect(boot()).toMatchObject({ active: 'b', pending: null });
    expect(server.requestsFor(artifactPath(z))).toHaveLength(1);

    const opened = Date.now();
    await writeFile(clockFile, '02:30\n');
    const healthy = await waitFor(
      () => view.updateReports('rollout-z').find((report) => report.status === 'healthy'),
      60_000,
      'healthy report for Z',
    );
    expect(healthy).toMatchObject({ version: z.version, runningVersion: z.version });
    const reports = view.updateReports('rollout-z');
    expect(
      withoutRepeats(reports.map((report) => report.status).filter((status) => status !== 'downloading')),
    ).toEqual(['downloaded', 'installing', 'rebooting', 'healthy']);
    expect(reports.find((report) => report.status === 'installing')!.ts).toBeGreaterThanOrEqual(opened);
    expect(boot()).toMatchObject({
      active: 'a',
      pending: null,
      last: { result: 'committed', slot: 'a', version: z.version },
    });
    expect(readSlotInfo(installed.bootPath, 'a')?.version).toBe(z.version);
    expect(fingerprint(join(installed.stateDir, 'slots', 'b'))).toBe(yPrint);
    await waitFor(() => view.reportedDeviceAgentVersions().at(-1) === z.version, 20_000, 'up/state of Z');
  }, 90_000);
});
