import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { HardwareIdSchema } from '@agentbox/schemas';
import { HARDWARE_ID_FILE, deriveHardwareId, resolveHardwareId } from './hardware-id.js';

describe('resolveHardwareId', () => {
  const base = useTempDir('agentbox-hw-');
  let machineId: string;

  beforeEach(async () => {
    machineId = join(base.path, 'machine-id');
    await writeFile(machineId, '0123456789abcdef0123456789abcdef\n');
  });

  it('derives a valid id from the machine id and the state dir, and persists it', async () => {
    const stateDir = join(base.path, 'a');
    await import('node:fs/promises').then((fs) => fs.mkdir(stateDir));
    const sut = await resolveHardwareId(stateDir, undefined, [machineId]);
    expect(HardwareIdSchema.safeParse(sut).success).toBe(true);
    expect(sut).toBe(deriveHardwareId('0123456789abcdef0123456789abcdef', stateDir));
    expect((await readFile(join(stateDir, HARDWARE_ID_FILE), 'utf8')).trim()).toBe(sut);
  });

  it('is stable across restarts even when the machine id changes later', async () => {
    const stateDir = join(base.path, 'a');
    await import('node:fs/promises').then((fs) => fs.mkdir(stateDir));
    const first = await resolveHardwareId(stateDir, undefined, [machineId]);
    await writeFile(machineId, 'ffffffffffffffffffffffffffffffff\n');
    expect(await resolveHardwareId(stateDir, undefined, [machineId])).toBe(first);
  });

  it('gives two state dirs on one machine two ids', async () => {
    const fs = await import('node:fs/promises');
    await fs.mkdir(join(base.path, 'a'));
    await fs.mkdir(join(base.path, 'b'));
    const a = await resolveHardwareId(join(base.path, 'a'), undefined, [machineId]);
    const b = await resolveHardwareId(join(base.path, 'b'), undefined, [machineId]);
    expect(a).not.toBe(b);
  });

  it('falls back to the next machine id file, then to a random id', async () => {
    const fs = await import('node:fs/promises');
    await fs.mkdir(join(base.path, 'a'));
    await fs.mkdir(join(base.path, 'b'));
    const viaFallback = await resolveHardwareId(join(base.path, 'a'), undefined, [
      join(base.path, 'nope'),
      machineId,
    ]);
    expect(viaFallback).toBe(deriveHardwareId('0123456789abcdef0123456789abcdef', join(base.path, 'a')));
    const random = await resolveHardwareId(join(base.path, 'b'), undefined, [join(base.path, 'nope')]);
    expect(HardwareIdSchema.safeParse(random).success).toBe(true);
  });

  it('uses the override as given', async () => {
    expect(await resolveHardwareId(base.path, 'my-box-serial-42', [machineId])).toBe('my-box-serial-42');
  });
});
