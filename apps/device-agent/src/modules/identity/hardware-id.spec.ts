import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HardwareIdSchema } from '@agentbox/schemas';
import { HARDWARE_ID_FILE, deriveHardwareId, resolveHardwareId } from './hardware-id.js';

describe('resolveHardwareId', () => {
  let base: string;
  let machineId: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'agentbox-hw-'));
    machineId = join(base, 'machine-id');
    await writeFile(machineId, '0123456789abcdef0123456789abcdef\n');
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('derives a valid id from the machine id and the state dir, and persists it', async () => {
    const stateDir = join(base, 'a');
    await import('node:fs/promises').then((fs) => fs.mkdir(stateDir));
    const sut = await resolveHardwareId(stateDir, undefined, [machineId]);
    expect(HardwareIdSchema.safeParse(sut).success).toBe(true);
    expect(sut).toBe(deriveHardwareId('0123456789abcdef0123456789abcdef', stateDir));
    expect((await readFile(join(stateDir, HARDWARE_ID_FILE), 'utf8')).trim()).toBe(sut);
  });

  it('is stable across restarts even when the machine id changes later', async () => {
    const stateDir = join(base, 'a');
    await import('node:fs/promises').then((fs) => fs.mkdir(stateDir));
    const first = await resolveHardwareId(stateDir, undefined, [machineId]);
    await writeFile(machineId, 'ffffffffffffffffffffffffffffffff\n');
    expect(await resolveHardwareId(stateDir, undefined, [machineId])).toBe(first);
  });

  it('gives two state dirs on one machine two ids', async () => {
    const fs = await import('node:fs/promises');
    await fs.mkdir(join(base, 'a'));
    await fs.mkdir(join(base, 'b'));
    const a = await resolveHardwareId(join(base, 'a'), undefined, [machineId]);
    const b = await resolveHardwareId(join(base, 'b'), undefined, [machineId]);
    expect(a).not.toBe(b);
  });

  it('falls back to the next machine id file, then to a random id', async () => {
    const fs = await import('node:fs/promises');
    await fs.mkdir(join(base, 'a'));
    await fs.mkdir(join(base, 'b'));
    const viaFallback = await resolveHardwareId(join(base, 'a'), undefined, [join(base, 'nope'), machineId]);
    expect(viaFallback).toBe(deriveHardwareId('0123456789abcdef0123456789abcdef', join(base, 'a')));
    const random = await resolveHardwareId(join(base, 'b'), undefined, [join(base, 'nope')]);
    expect(HardwareIdSchema.safeParse(random).success).toBe(true);
  });

  it('uses the override as given', async () => {
    expect(await resolveHardwareId(base, 'my-box-serial-42', [machineId])).toBe('my-box-serial-42');
  });
});
