import { randomBytes } from 'node:crypto';
import { ProvisionResponseSchema, type ProvisionRequest, type ProvisionResponse } from '@agentbox/schemas';
import { SimulatedBox, type SimulatedBoxOptions } from './simulated-box.js';

/**
 * Enrols a box with a claim token over HTTP (`POST /api/v1/provision`, docs/protocol.md section 10) and
 * returns its identity; anything but 200 with a valid body throws with the status and the body.
 */
export async function provisionBox(fleetUrl: string, request: ProvisionRequest): Promise<ProvisionResponse> {
  const response = await fetch(`${fleetUrl}/api/v1/provision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`provision: ${response.status} ${text}`);
  return ProvisionResponseSchema.parse(JSON.parse(text));
}

export interface ProvisionSimulatedBoxOptions extends Omit<
  SimulatedBoxOptions,
  'url' | 'deviceId' | 'password'
> {
  /** A random `sim-…` id unless given. */
  hardwareId?: string;
  name?: string;
}

/** Enrols a box with `claimToken` and connects it, with the credentials it got, to the broker it was told. */
export async function provisionSimulatedBox(
  fleetUrl: string,
  claimToken: string,
  {
    hardwareId = `sim-${randomBytes(6).toString('hex')}`,
    name,
    ...options
  }: ProvisionSimulatedBoxOptions = {},
): Promise<SimulatedBox> {
  const identity = await provisionBox(fleetUrl, { claimToken, hardwareId, ...(name ? { name } : {}) });
  return SimulatedBox.connect({
    url: identity.mqtt.url,
    deviceId: identity.deviceId,
    password: identity.mqtt.password,
    ...options,
  });
}
