import type { BirthMessage, UpdateMessage } from '@agentbox/schemas';

/**
 * Seams between feature modules, so the broker and ingest depend on the device registry
 * (and provisioning on the broker) through small interfaces rather than on each other's internals.
 */

/** Implemented by the devices module (DevicesService); used by the broker and ingest. */
export interface DeviceRegistryPort {
  /** True when the device exists, is not revoked and `secret` matches its stored hash. */
  verifyCredentials(deviceId: string, secret: string): Promise<boolean>;
  markOnline(deviceId: string, at: Date): Promise<void>;
  markOffline(deviceId: string, at: Date): Promise<void>;
  /**
   * Marks every box offline; called when a freshly started embedded broker knows that nobody is
   * connected yet (its retained statuses and wills died with the previous process). Returns how many changed.
   */
  markAllOffline(): Promise<number>;
  applyBirth(deviceId: string, birth: BirthMessage, at: Date): Promise<void>;
  /** Bumps lastSeenAt for many devices in one write (called by the ingest batch writer). */
  touch(deviceIds: readonly string[], at: Date): Promise<void>;
}
export const DEVICE_REGISTRY = Symbol('DEVICE_REGISTRY');

/**
 * Implemented by the devices module (DevicesService); used by the broker module to keep each box's broker
 * password sealed while an external broker with dynamic security holds the box's client, so a client the
 * broker loses can be re-created (docs/operations.md, "Running on PostgreSQL and Mosquitto").
 */
export interface BrokerPasswordsPort {
  /** Stores (or with null clears) a box's sealed broker password; never logged. */
  storeBrokerPassword(deviceId: string, sealed: string | null): Promise<void>;
  /** Clears every stored broker password; returns how many there were. */
  clearBrokerPasswords(): Promise<number>;
  /** Every box's id, in id order. */
  deviceIds(): Promise<string[]>;
  /** The sealed broker passwords of the given boxes (null: none stored; absent: no such box). */
  sealedBrokerPasswords(ids: readonly string[]): Promise<Map<string, string | null>>;
}
export const BROKER_PASSWORDS = Symbol('BROKER_PASSWORDS');

/** Implemented by the broker module (BrokerService); used by provisioning, health and metrics. */
export interface BrokerPort {
  /** The MQTT URL boxes are told at provisioning. */
  publicUrl(): string;
  /** Creates or rotates a box's broker credentials (external Mosquitto: dynamic security; embedded: no-op). */
  upsertDeviceCredentials(deviceId: string, secret: string): Promise<void>;
  /** Removes a box's credentials and disconnects it. */
  removeDevice(deviceId: string): Promise<void>;
  /** Publishes a retained desired-state document to a box's `down/desired`. */
  publishDesired(deviceId: string, payload: Buffer): Promise<void>;
  /** True while the broker (embedded or external) is reachable. */
  isReady(): boolean;
}
export const BROKER = Symbol('BROKER');

/** Implemented by the rollouts' UpdateReportsModule (UpdateReportsService); used by ingest for `up/update`. */
export interface UpdateReportsPort {
  /** Stores a box's update status reports (its history, and the queue the rollout engine reads). */
  recordReports(deviceId: string, message: UpdateMessage, receivedAt: Date): Promise<void>;
}
export const UPDATE_REPORTS = Symbol('UPDATE_REPORTS');
