import type { BrokerPort } from '../../src/common/ports.js';

/** An in-test BrokerPort for service unit tests: records what provisioning and deletion asked of it. */
export class RecordingBroker implements BrokerPort {
  readonly credentials = new Map<string, string>();
  readonly removed: string[] = [];
  ready = true;
  /** When set, the next upsertDeviceCredentials fails with it (a broker that is down). */
  failNextUpsert: Error | undefined;

  publicUrl(): string {
    return 'mqtt://broker.test:1883';
  }

  upsertDeviceCredentials(deviceId: string, secret: string): Promise<void> {
    const failure = this.failNextUpsert;
    if (failure) {
      this.failNextUpsert = undefined;
      return Promise.reject(failure);
    }
    this.credentials.set(deviceId, secret);
    return Promise.resolve();
  }

  removeDevice(deviceId: string): Promise<void> {
    this.removed.push(deviceId);
    this.credentials.delete(deviceId);
    return Promise.resolve();
  }

  publishDesired(): Promise<void> {
    return Promise.resolve();
  }

  isReady(): boolean {
    return this.ready;
  }
}
