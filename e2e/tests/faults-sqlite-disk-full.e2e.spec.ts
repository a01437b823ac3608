import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionBox, sleep, waitFor } from '@agentbox/test-support';
import { Platform } from '../support/platform.js';
import { waitForReadiness } from '../support/readiness.js';
import { countStored, SpoolingBox, countProblems } from '../support/spooling-box.js';

/** Whether this run may mount a tmpfs (root, or a container with CAP_SYS_ADMIN). */
function canMountTmpfs(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'agentbox-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(probe);
  }
}

const mountable = canMountTmpfs();
if (!mountable) {
  console.warn(
    'faults-sqlite-disk-full: skipped, this run may not mount a tmpfs (it needs root or CAP_SYS_ADMIN)',
  );
}

/** Writes zeros into `file` until the file system refuses a single byte more. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * docs/operations.md, "Faults on the data path": the embedded stack's SQLite file on a disk that fills up
 * while boxes publish, and is freed again, with the fleet service running throughout. Writes fail with
 * SQLITE_FULL: nothing may be acknowledged that was not committed, `/readyz` must say so, and once the
 * space is back every write (telemetry the boxes kept, a claim token made through the API) must be
 * durable, across a restart of the service.
 */
describe.skipIf(!mountable)('a full disk under the SQLite stack', () => {
  const BOXES = 3;
  const logDir = mkdtempSync(join(tmpdir(), 'agentbox-e2e-disk-full-'));
  let platform: Platform;
  let boxes: SpoolingBox[] = [];
  let mounted = false;

  beforeAll(async () => {
    platform = new Platform({ AGENTBOX_INGEST_FLUSH_MS: '100' }, { fleetLogFile: join(logDir, 'fleet.log') });
    mkdirSync(platform.dataDir, { recursive: true });
    // Big enough for the service's files and a few minutes of telemetry; the test fills the rest.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', platform.dataDir]);
    mounted = true;
    await platform.start();
    const token = await platform.api.createClaimToken({ ttlHours: 1, maxUses: BOXES });
    boxes = await Promise.all(
      Array.from({ length: BOXES }, (_, i) => SpoolingBox.enrol(platform.fleet.url, token, `disk-${i}`)),
    );
  });

  afterAll(async () => {
    await Promise.all(boxes.map((box) => box.abort()));
    await platform?.fleet?.kill('SIGTERM');
    if (mounted) execFileSync('umount', [platform.dataDir]);
    await platform?.stop();
    if (!process.env.AGENTBOX_E2E_KEEP) rmSync(logDir, { recursive: true, force: true });
  });

  const storedSeqs = async (deviceId: string) =>
    (await platform.api.telemetry(deviceId, 5_000)).map((sample) => sample.seq);

  it('acknowledges nothing it cannot commit, says 503 meanwhile, and keeps every write once space is back', async () => {
    await waitFor('every box has messages stored', () => boxes.every((box) => box.acked.size >= 10));

    const ballast = join(platform.dataDir, 'ballast');
    fillDisk(ballast);
    const down = await waitForReadiness(platform.fleet.url, 503, 'the disk is full');
    expect(down.checks?.database).toBe('down');
    // Still full: the boxes' messages pile up in their spools, unacknowledged.
    const ackedWhileFull = boxes.map((box) => box.acked.size);
    await waitFor('the boxes keep what the fleet cannot store', () =>
      boxes.every((box) => box.spooled >= 10),
    );
    expect(await waitForReadiness(platform.fleet.url, 503, 'the disk is still full')).toBeTruthy();

    unlinkSync(ballast);
    const up = await waitForReadiness(platform.fleet.url, 200, 'the space is back');
    expect(up.checks?.database).toBe('up');
    // A write that is not telemetry, after the fault, through the same connection.
    const claim = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    await waitFor('the boxes sent what they kept', () =>
      boxes.every((box, i) => box.acked.size > ackedWhileFull[i]! + 10),
    );
    await sleep(1_000);
    await Promise.all(boxes.map((box) => box.finish()));

    const counts = await countStored(boxes, storedSeqs);
    expect(countProblems(counts)).toEqual([]);

    // What the API served was committed: a restart of the service finds all of it.
    await platform.restartFleet('SIGTERM');
    const afterRestart = await countStored(boxes, storedSeqs);
    expect(afterRestart.map((count) => count.stored)).toEqual(counts.map((count) => count.sent));
    const enrolled = await provisionBox(platform.fleet.url, { claimToken: claim, hardwareId: 'after-fault' });
    expect(enrolled.deviceId).toBeTruthy();
  });
});
