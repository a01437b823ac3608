import { readdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, waitFor } from '@agentbox/test-support';
import { TestBox, type AgentEvent } from './support/box.js';

const startsOf = (events: AgentEvent[], slot: string) =>
  events.filter((e) => e.event === 'start' && e.slot === slot);

describe('launcher', () => {
  let box: TestBox;
  afterEach(async () => {
    await box.close();
  });

  it('starts the active slot with the slot and boot state in its environment, not as pending', async () => {
    box = new TestBox();
    box.installSlot('a', '1.0.0', { kind: 'commit' });
    box.writeBoot({ active: 'a' });
    box.startLauncher();

    const [start] = await box.waitForEvent('slot a started', (events) => startsOf(events, 'a').length === 1);
    expect(start).toMatchObject({ slot: 'a', pending: false });
    expect(start?.deadline).toBeUndefined();
    // systemd's WATCHDOG_PID names the launcher; the agent must not inherit it or it would never ping.
    expect((start as unknown as { watchdogPid: string | null }).watchdogPid).toBeNull();
    expect(box.readBoot()).toMatchObject({ active: 'a', pending: null });
  });

  it('boots a pending slot that commits: the slot becomes active and keeps running', async () => {
    box = new TestBox();
    box.pendingUpdate(
      { kind: 'commit', commitAfterMs: 200 },
      { rolloutId: 'r1', maxAttempts: 3, deadlineSec: 5 },
    );
    const run = box.startLauncher();

    await box.waitForEvent('slot b committed', (events) => events.some((e) => e.event === 'committed'));
    expect(box.readBoot()).toMatchObject({
      active: 'b',
      pending: null,
      last: { result: 'committed', slot: 'b', version: '1.1.0', rolloutId: 'r1', attempts: 1 },
    });
    const [start] = startsOf(box.events(), 'b');
    expect(start?.pending).toBe(true);
    expect(Number(start?.deadline)).toBeGreaterThan(Date.now());

    // Past the deadline the committed version is left alone.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    expect(isAlive(start!.pid)).toBe(true);
    expect(box.starts()).toHaveLength(1);
    expect(run.output()).not.toContain('did not commit');
  });

  it('rolls back a pending slot that crashes on every attempt, with reason crashed, and runs the old slot', async () => {
    box = new TestBox();
    box.pendingUpdate({ kind: 'crash' }, { rolloutId: 'r1', maxAttempts: 3, deadlineSec: 30 });
    box.startLauncher();

    const events = await box.waitForEvent('slot a back', (e) => startsOf(e, 'a').length === 1);
    expect(startsOf(events, 'b')).toHaveLength(3);
    expect(startsOf(events, 'b').every((e) => e.pending)).toBe(true);
    const state = box.readBoot();
    expect(state).toMatchObject({ active: 'a', pending: null });
    expect(state.last).toMatchObject({
      result: 'rolled-back',
      slot: 'b',
      version: '1.1.0',
      rolloutId: 'r1',
      reason: 'crashed',
      attempts: 3,
    });
    expect(state.last?.detail).toContain('exited with code 3');
    expect(startsOf(events, 'a')[0]?.pending).toBe(false);
  });

  it('stops a pending slot that never commits at its deadline and rolls back with reason timeout', async () => {
    box = new TestBox();
    box.pendingUpdate({ kind: 'hang' }, { maxAttempts: 2, deadlineSec: 2 });
    box.startLauncher();

    const events = await box.waitForEvent('slot a back', (e) => startsOf(e, 'a').length === 1);
    const bStarts = startsOf(events, 'b');
    expect(bStarts).toHaveLength(2);
    expect(events.filter((e) => e.event === 'sigterm' && e.slot === 'b')).toHaveLength(2);
    for (const start of bStarts) expect(isAlive(start.pid)).toBe(false);
    expect(box.readBoot().last).toMatchObject({
      result: 'rolled-back',
      slot: 'b',
      reason: 'timeout',
      attempts: 2,
    });
  });

  it('kills a pending slot that ignores SIGTERM at the deadline', async () => {
    box = new TestBox();
    box.pendingUpdate({ kind: 'hang-hard' }, { maxAttempts: 1, deadlineSec: 2 });
    box.startLauncher();

    const events = await box.waitForEvent('slot a back', (e) => startsOf(e, 'a').length === 1);
    expect(events.some((e) => e.event === 'sigterm-ignored')).toBe(true);
    expect(isAlive(startsOf(events, 'b')[0]!.pid)).toBe(false);
    expect(box.readBoot().last).toMatchObject({ result: 'rolled-back', reason: 'timeout' });
  });

  it('restarts at once into the pending slot when the agent exits with 75', async () => {
    box = new TestBox();
    box.installSlot('a', '1.0.0', { kind: 'update-then-restart', version: '1.1.0' });
    box.installSlot('b', '1.1.0', { kind: 'commit' });
    box.writeBoot({ active: 'a' });
    // A crash backoff this long would fail the timing below: 75 must not wait for it.
    box.startLauncher({ AGENTBOX_LAUNCHER_BACKOFF_MS: '5000', AGENTBOX_LAUNCHER_BACKOFF_MAX_MS: '5000' });

    const events = await box.waitForEvent('slot b committed', (e) => e.some((x) => x.event === 'committed'));
    const restart = events.find((e) => e.event === 'restart')!;
    const bStart = startsOf(events, 'b')[0]!;
    expect(bStart.pending).toBe(true);
    expect(bStart.at - restart.at).toBeLessThan(2_000);
    expect(box.readBoot()).toMatchObject({ active: 'b', pending: null, last: { result: 'committed' } });
  });

  it('counts boot attempts across power losses while a pending slot boots, then runs a good version', async () => {
    box = new TestBox();
    box.pendingUpdate({ kind: 'commit', commitAfterMs: 60_000 }, { maxAttempts: 2, deadlineSec: 120 });

    for (let attempt = 1; attempt <= 2; attempt++) {
      const run = box.startLauncher();
      await box.waitForEvent(`pending attempt ${attempt}`, (e) => startsOf(e, 'b').length === attempt);
      await box.powerLoss(run);
      expect(box.readBoot().pending).toMatchObject({ slot: 'b', attempts: attempt });
    }

    const run = box.startLauncher();
    const events = await box.waitForEvent('slot a back', (e) => startsOf(e, 'a').length === 1);
    expect(startsOf(events, 'b')).toHaveLength(2);
    expect(box.readBoot()).toMatchObject({
      active: 'a',
      pending: null,
      last: { result: 'rolled-back', slot: 'b', reason: 'crashed', attempts: 2 },
    });
    expect(box.readBoot().last?.detail).toContain('did not finish');
    expect(run.output()).toContain('rolling back');
  });

  it('commits on the attempt after a power loss when the version is good', async () => {
    box = new TestBox();
    box.pendingUpdate({ kind: 'commit', commitAfterMs: 1_500 }, { maxAttempts: 3, deadlineSec: 120 });
    const first = box.startLauncher();
    await box.waitForEvent('pending attempt 1', (e) => startsOf(e, 'b').length === 1);
    await box.powerLoss(first);
    expect(box.readBoot().pending?.attempts).toBe(1);

    box.startLauncher();
    await box.waitForEvent('slot b committed', (e) => e.some((x) => x.event === 'committed'));
    expect(box.readBoot()).toMatchObject({
      active: 'b',
      pending: null,
      last: { result: 'committed', attempts: 2 },
    });
  });

  it('falls back to the slot installed first when boot.json is corrupt, keeping the damaged copy', async () => {
    box = new TestBox();
    box.installSlot('a', '1.1.0', { kind: 'commit' }, { installedAt: 2_000 });
    box.installSlot('b', '1.0.0', { kind: 'commit' }, { installedAt: 1_000 });
    writeFileSync(box.bootStatePath, '{"v":1,"active":"a","pend');
    const run = box.startLauncher();

    await box.waitForEvent('slot b started', (e) => startsOf(e, 'b').length === 1);
    expect(box.readBoot()).toEqual({ v: 1, active: 'b', pending: null, last: null });
    expect(readdirSync(box.stateDir).some((name) => name.startsWith('boot.json.corrupt-'))).toBe(true);
    expect(run.output()).toContain('boot state unusable');
  });

  it('rebuilds a missing boot.json from the only usable slot', async () => {
    box = new TestBox();
    box.installSlot('b', '1.0.0', { kind: 'commit' });
    box.startLauncher();
    await box.waitForEvent('slot b started', (e) => startsOf(e, 'b').length === 1);
    expect(box.readBoot()).toMatchObject({ active: 'b', pending: null });
  });

  it('exits with 78 and a clear message when no slot is usable', async () => {
    box = new TestBox();
    writeFileSync(box.bootStatePath, 'garbage');
    const run = box.startLauncher();
    expect(await run.exited).toEqual({ code: 78, signal: null });
    expect(run.output()).toContain('no usable slot');
    expect(run.output()).toContain('install.sh');
  });

  it('restarts a crashing active slot with a capped exponential backoff', async () => {
    box = new TestBox();
    box.installSlot('a', '1.0.0', { kind: 'crash' });
    box.writeBoot({ active: 'a' });
    const run = box.startLauncher({
      AGENTBOX_LAUNCHER_BACKOFF_MS: '150',
      AGENTBOX_LAUNCHER_BACKOFF_MAX_MS: '600',
    });
    const events = await box.waitForEvent('six starts', (e) => startsOf(e, 'a').length >= 6);
    const delays = [...run.output().matchAll(/restarting in (\d+) ms/g)].map((m) => Number(m[1]));
    expect(delays.slice(0, 5)).toEqual([150, 300, 600, 600, 600]);
    const starts = startsOf(events, 'a').map((e) => e.at);
    starts.slice(1).forEach((at, i) => expect(at - starts[i]!).toBeGreaterThanOrEqual(delays[i]!));
    expect(box.readBoot()).toMatchObject({ active: 'a', pending: null, last: null });
  });

  it('exits with the code of an active slot that a restart cannot fix (77, 78)', async () => {
    box = new TestBox();
    box.installSlot('a', '1.0.0', { kind: 'exit', exitCode: 78 });
    box.writeBoot({ active: 'a' });
    const run = box.startLauncher();
    expect(await run.exited).toEqual({ code: 78, signal: null });
    expect(box.starts()).toHaveLength(1);
  });

  it('passes SIGTERM to the agent and exits with its exit code', async () => {
    box = new TestBox();
    box.installSlot('a', '1.0.0', { kind: 'commit' }, { stopExitCode: 0 });
    box.writeBoot({ active: 'a' });
    const run = box.startLauncher();
    const [start] = await box.waitForEvent('slot a started', (e) => startsOf(e, 'a').length === 1);

    run.process.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(box.events().some((e) => e.event === 'sigterm' && e.pid === start!.pid)).toBe(true);
    expect(isAlive(start!.pid)).toBe(false);
  });

  it('passes SIGINT through and reports a non-zero exit of the agent as its own', async () => {
    box = new TestBox();
    box.installSlot('a', '1.0.0', { kind: 'commit' }, { stopExitCode: 5 });
    box.writeBoot({ active: 'a' });
    const run = box.startLauncher();
    await box.waitForEvent('slot a started', (e) => startsOf(e, 'a').length === 1);
    run.process.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 5, signal: null });
  });

  it('does not count a boot attempt that a clean stop interrupted', async () => {
    box = new TestBox();
    box.pendingUpdate({ kind: 'hang' }, { maxAttempts: 3, deadlineSec: 60 });
    const run = box.startLauncher();
    await box.waitForEvent('pending started', (e) => startsOf(e, 'b').length === 1);
    expect(box.readBoot().pending?.attempts).toBe(1);
    run.process.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(box.readBoot().pending).toMatchObject({ slot: 'b', attempts: 0 });
  });

  it('stops waiting out a backoff at once on SIGTERM', async () => {
    box = new TestBox();
    box.installSlot('a', '1.0.0', { kind: 'crash' });
    box.writeBoot({ active: 'a' });
    const run = box.startLauncher({ AGENTBOX_LAUNCHER_BACKOFF_MS: '20000' });
    await box.waitForEvent('crashed once', (e) => e.some((x) => x.event === 'crash'));
    await waitFor('in backoff', () => run.output().includes('restarting in'));
    const asked = Date.now();
    run.process.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - asked).toBeLessThan(2_000);
  });
  it('records a missed systemd watchdog (SIGUSR2) of a pending boot as reason watchdog and exits 134', async () => {
    box = new TestBox();
    box.pendingUpdate({ kind: 'hang' }, { maxAttempts: 1, deadlineSec: 60 });
    const run = box.startLauncher();
    const [start] = await box.waitForEvent('pending started', (e) => startsOf(e, 'b').length === 1);
    run.process.kill('SIGUSR2');
    expect(await run.exited).toEqual({ code: 134, signal: null });
    expect(isAlive(start!.pid)).toBe(false);
    expect(box.readBoot()).toMatchObject({
      active: 'a',
      pending: null,
      last: { result: 'rolled-back', slot: 'b', reason: 'watchdog', attempts: 1 },
    });
  });
});
