import { Injectable, Logger } from '@nestjs/common';
import { BoxConfig } from '../../config/box-config.js';
import { BoxException, BoxExceptionCode } from '../../common/box-exception.js';
import { ensurePrivateDir } from '../../common/atomic-file.js';
import { CredentialsStore, type StoredCredentials } from './credentials.store.js';
import { resolveHardwareId } from './hardware-id.js';
import { ProvisioningClient } from './provisioning.client.js';

/** Who this box is: its hardware id and the MQTT credentials the fleet service gave it. */
@Injectable()
export class IdentityService {
  private readonly logger = new Logger(IdentityService.name);
  private readonly store: CredentialsStore;
  private current: StoredCredentials | undefined;
  private hardwareId: string | undefined;

  constructor(private readonly config: BoxConfig) {
    this.store = new CredentialsStore(config.stateDir);
  }

  get credentials(): StoredCredentials {
    if (!this.current) throw new Error('identity not loaded yet');
    return this.current;
  }

  get deviceId(): string {
    return this.credentials.deviceId;
  }

  /** The broker URL to use: the override from the environment, else what provisioning returned. */
  get mqttUrl(): string {
    return this.config.mqttUrlOverride ?? this.credentials.mqtt.url;
  }

  /** Loads stored credentials, or enrolls on first boot. Throws BoxException when it cannot. */
  async ensureEnrolled(signal?: AbortSignal): Promise<StoredCredentials> {
    try {
      await ensurePrivateDir(this.config.stateDir);
    } catch (error) {
      throw new BoxException(
        BoxExceptionCode.STATE_DIR_UNUSABLE,
        `cannot use the state directory ${this.config.stateDir}: ${(error as Error).message}`,
        'set AGENTBOX_STATE_DIR to a directory the device agent may write (systemd: StateDirectory=agentbox)',
      );
    }
    this.hardwareId = await resolveHardwareId(this.config.stateDir, this.config.hardwareIdOverride);
    let stored: StoredCredentials | undefined;
    try {
      stored = await this.store.load();
    } catch (error) {
      if (!this.canReenroll()) {
        throw new BoxException(
          BoxExceptionCode.CREDENTIALS_UNREADABLE,
          `cannot read the stored credentials: ${(error as Error).message}`,
          'set AGENTBOX_CLAIM_TOKEN (and AGENTBOX_FLEET_URL) so the box enrolls again under the same device id',
        );
      }
      this.logger.warn({ err: error }, 'stored credentials unreadable; enrolling again with the claim token');
    }
    if (stored) {
      this.current = stored;
      this.logger.log({ deviceId: stored.deviceId, hardwareId: this.hardwareId }, 'using stored credentials');
      return stored;
    }
    return this.enroll(signal);
  }

  /** True when a claim token is configured, so a refused secret can be replaced by re-enrolling. */
  canReenroll(): boolean {
    return this.config.claimToken !== undefined && this.config.fleetUrl !== undefined;
  }

  /** Enrolls (again): same hardware id, so the fleet service returns the same deviceId with a rotated secret. */
  async enroll(signal?: AbortSignal): Promise<StoredCredentials> {
    const { fleetUrl, claimToken } = this.config;
    if (fleetUrl === undefined) {
      throw new BoxException(
        BoxExceptionCode.FLEET_URL_MISSING,
        'this box is not enrolled yet and AGENTBOX_FLEET_URL is not set',
        'set AGENTBOX_FLEET_URL to the fleet service URL (e.g. https://fleet.example.com) in /etc/agentbox/agent.env',
      );
    }
    if (claimToken === undefined) {
      throw new BoxException(
        BoxExceptionCode.CLAIM_TOKEN_MISSING,
        'this box is not enrolled yet and AGENTBOX_CLAIM_TOKEN is not set',
        'create a claim token in the console (Add box) and set AGENTBOX_CLAIM_TOKEN in /etc/agentbox/agent.env',
      );
    }
    const hardwareId =
      this.hardwareId ?? (await resolveHardwareId(this.config.stateDir, this.config.hardwareIdOverride));
    this.hardwareId = hardwareId;
    this.logger.log(
      { fleetUrl, hardwareId, name: this.config.deviceName },
      'enrolling with the fleet service',
    );
    const reply = await new ProvisioningClient(fleetUrl).provision(
      { claimToken, hardwareId, name: this.config.deviceName },
      signal,
    );
    const credentials: StoredCredentials = {
      deviceId: reply.deviceId,
      hardwareId,
      mqtt: reply.mqtt,
      enrolledAt: new Date().toISOString(),
    };
    await this.store.save(credentials);
    this.current = credentials;
    this.logger.log({ deviceId: reply.deviceId, mqttUrl: reply.mqtt.url }, 'enrolled; credentials stored');
    return credentials;
  }
}
