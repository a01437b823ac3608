import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { encodeMessage, type DesiredStateMessage } from '@agentbox/schemas';
import { enrolledBox } from '../../../test/support/enrolled-box.js';
import { DESIRED_FILE } from './desired-state.store.js';
import { DesiredStateService } from './desired-state.service.js';

const doc = (version: number, intervalSec?: number): DesiredStateMessage => ({
  v: 1,
  version,
  ts: 1_000,
  spec: intervalSec === undefined ? {} : { telemetry: { intervalSec } },
});

/** The service with real parts; the link is never started, so state reports are skipped as offline. */
async function build(stateDir: string) {
  const { config, identity, link, outbox, runtime, seq } = await enrolledBox(stateDir, {
    env: { AGENTBOX_TELEMETRY_INTERVAL_SEC: '5' },
  });
  const sut = new DesiredStateService(config, identity, link, outbox, runtime, seq);
  return { sut, runtime, outbox };
}

describe('DesiredStateService', () => {
  const dir = useTempDir('agentbox-desired-');

  it('applies a newer document, stores it, and ignores an older one', async () => {
    const { sut, runtime } = await build(dir.path);
    expect(await sut.receive(encodeMessage(doc(3, 10)))).toBe('applied');
    expect(runtime.telemetryIntervalSec).toBe(10);
    expect(runtime.desiredVersion).toBe(3);
    expect(await sut.receive(encodeMessage(doc(2, 60)))).toBe('ignored-older');
    expect(runtime.telemetryIntervalSec).toBe(10);
    expect(runtime.desiredVersion).toBe(3);
    const stored = JSON.parse(await readFile(join(dir.path, DESIRED_FILE), 'utf8')) as DesiredStateMessage;
    expect(stored.version).toBe(3);
  });

  it('takes the same version again (a retained redelivery) and the whole document each time', async () => {
    const { sut, runtime } = await build(dir.path);
    await sut.receive(encodeMessage(doc(4, 10)));
    // Version 5 has no telemetry section: the interval goes back to the configured default, not a merge.
    expect(await sut.receive(encodeMessage(doc(5)))).toBe('applied');
    expect(runtime.telemetryIntervalSec).toBe(5);
    expect(await sut.receive(encodeMessage(doc(5)))).toBe('applied');
  });

  it('keeps the old document when an invalid one arrives', async () => {
    const { sut, runtime } = await build(dir.path);
    await sut.receive(encodeMessage(doc(7, 30)));
    expect(await sut.receive(Buffer.from('{"v":1,"version":"8"}'))).toBe('invalid');
    expect(await sut.receive(Buffer.from('not json'))).toBe('invalid');
    expect(await sut.receive(encodeMessage(doc(9, 0.5)))).toBe('invalid');
    expect(sut.rejected).toBe(3);
    expect(runtime.desiredVersion).toBe(7);
    expect(runtime.telemetryIntervalSec).toBe(30);
  });

  it('ignores an empty retained payload (a cleared retained message)', async () => {
    const { sut } = await build(dir.path);
    expect(await sut.receive(Buffer.alloc(0))).toBe('cleared');
  });

  it('applies the stored document at start, and a restarted box still refuses older versions', async () => {
    const first = await build(dir.path);
    await first.sut.receive(encodeMessage(doc(12, 20)));
    const second = await build(dir.path);
    await second.sut.load();
    expect(second.runtime.telemetryIntervalSec).toBe(20);
    expect(await second.sut.receive(encodeMessage(doc(11, 40)))).toBe('ignored-older');
    expect(second.runtime.telemetryIntervalSec).toBe(20);
  });

  it('hands each owner its own sections of every applied document, the stored one first', async () => {
    const first = await build(dir.path);
    const update: unknown[] = [];
    const agents: unknown[] = [];
    first.sut.onSection('update', (sections, applied) => update.push([sections, applied.version]));
    first.sut.onSection(['agents', 'providers'], () => {
      throw new Error('a broken owner');
    });
    first.sut.onSection(['agents', 'providers'], (sections) => agents.push(sections));
    const document = { ...doc(3, 10), spec: { telemetry: { intervalSec: 10 }, agents: [], newer: { x: 1 } } };
    expect(await first.sut.receive(encodeMessage(document))).toBe('applied');
    expect(first.sut.appliedFromCloud).toBe(true);
    expect(update).toEqual([[{ update: undefined }, 3]]);
    expect(agents).toEqual([{ agents: [], providers: undefined }]);
    // A section this version does not know is kept for a newer one.
    const stored = JSON.parse(await readFile(join(dir.path, DESIRED_FILE), 'utf8')) as DesiredStateMessage;
    expect(stored.spec).toMatchObject({ newer: { x: 1 } });

    const second = await build(dir.path);
    const loaded: unknown[] = [];
    second.sut.onSection('agents', (sections, applied) => loaded.push([sections, applied.version]));
    await second.sut.load();
    expect(loaded).toEqual([[{ agents: [] }, 3]]);
    expect(second.sut.appliedFromCloud).toBe(false);
  });
});
