import { z } from 'zod';

/**
 * Device ids become MQTT client ids, usernames and topic levels, so they must never carry
 * topic wildcards or separators (MQTT-4.7.1: '+' and '#' are wildcards, '/' separates levels)
 * nor start with '$', which MQTT-4.7.2 reserves for broker topics such as $SYS.
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const DeviceIdSchema = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'device id must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
export type DeviceId = z.infer<typeof DeviceIdSchema>;

/** Command ids are topic levels too (`down/commands/{commandId}`), with the same rules. */
export const CommandIdSchema = DeviceIdSchema.describe('command id');

export function isValidDeviceId(value: string): boolean {
  return DEVICE_ID_PATTERN.test(value);
}
