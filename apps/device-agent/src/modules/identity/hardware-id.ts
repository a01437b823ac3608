import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HardwareIdSchema } from '@agentbox/schemas';
import { writeFileAtomic } from '../../common/atomic-file.js';

export const HARDWARE_ID_FILE = 'hardware-id';
export const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

async function readFirstMachineId(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      const value = (await readFile(path, 'utf8')).trim();
      if (value.length > 0) return value;
    } catch {
      // absent or unreadable: try the next one
    }
  }
  return undefined;
}

/**
 * sha256 of the machine id and the resolved state dir, so two agents with two state dirs on one
 * machine are two devices, and the raw machine id (which systemd asks not to expose) never leaves the box.
 */
export function deriveHardwareId(machineId: string, stateDir: string): string {
  return `hw-${createHash('sha256').update(`${machineId}\n${stateDir}`).digest('hex')}`;
}

/**
 * The box's hardware id: the override when given; else the one persisted in the state dir; else
 * derived (machine-id, then dbus machine-id, then random) and persisted, so it stays stable across
 * restarts even if the machine id file later changes or disappears.
 */
export async function resolveHardwareId(
  stateDir: string,
  override: string | undefined,
  machineIdPaths: readonly string[] = MACHINE_ID_PATHS,
): Promise<string> {
  if (override !== undefined) return override;
  const file = join(stateDir, HARDWARE_ID_FILE);
  try {
    const stored = HardwareIdSchema.safeParse((await readFile(file, 'utf8')).trim());
    if (stored.success) return stored.data;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const machineId = (await readFirstMachineId(machineIdPaths)) ?? randomBytes(16).toString('hex');
  const id = deriveHardwareId(machineId, stateDir);
  await writeFileAtomic(file, `${id}\n`, 0o600);
  return id;
}
