import type { AssignmentTarget } from '@agentbox/schemas';

interface DeviceLike {
  id: string;
  tags: readonly string[];
}

/** Whether an assignment target covers a box. */
export function targetCovers(target: AssignmentTarget, device: DeviceLike): boolean {
  switch (target.type) {
    case 'all':
      return true;
    case 'device':
      return target.deviceId === device.id;
    case 'tag':
      return device.tags.includes(target.tag);
  }
}

/** The boxes an agent runs on, given its assignments: the boxes a task can be sent to. */
export function assignedDevices<D extends DeviceLike>(
  targets: readonly AssignmentTarget[],
  devices: readonly D[],
): D[] {
  return devices.filter((device) => targets.some((target) => targetCovers(target, device)));
}

/** A stable key per target, so the same target is not offered twice. */
export function targetKey(target: AssignmentTarget): string {
  switch (target.type) {
    case 'all':
      return 'all';
    case 'device':
      return `device:${target.deviceId}`;
    case 'tag':
      return `tag:${target.tag}`;
  }
}
