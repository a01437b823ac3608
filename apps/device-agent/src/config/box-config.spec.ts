import { describe, expect, it } from 'vitest';
import { BoxConfig, ConfigError } from './box-config.js';

describe('BoxConfig.fromEnv', () => {
  const sut = (env: NodeJS.ProcessEnv) => BoxConfig.fromEnv(env);

  it('applies the documented defaults', () => {
    const config = sut({});
    expect(config.stateDir).toBe('/var/lib/agentbox');
    expect(config.telemetryIntervalSec).toBe(5);
    expect(config.keepaliveSec).toBe(10);
    expect(config.spoolMaxBytes).toBe(64 * 1024 * 1024);
    expect(config.fleetUrl).toBeUndefined();
    expect(config.deviceName.length).toBeGreaterThan(0);
    expect(config.webhookPort).toBe(7450);
    expect(config.runRetentionDays).toBe(30);
    expect(config.runRetentionBytes).toBe(100 * 1024 * 1024);
  });

  it('takes the agent runtime settings, 0 turning the webhook off, and refuses bad ones', () => {
    const config = sut({
      AGENTBOX_WEBHOOK_PORT: '0',
      AGENTBOX_RUN_RETENTION_DAYS: '7',
      AGENTBOX_RUN_RETENTION_MB: '16',
    });
    expect(config.webhookPort).toBe(0);
    expect(config.runRetentionDays).toBe(7);
    expect(config.runRetentionBytes).toBe(16 * 1024 * 1024);
    expect(() => sut({ AGENTBOX_WEBHOOK_PORT: '70000' })).toThrow(/AGENTBOX_WEBHOOK_PORT/);
    expect(() => sut({ AGENTBOX_RUN_RETENTION_DAYS: '0' })).toThrow(/AGENTBOX_RUN_RETENTION_DAYS/);
    expect(() => sut({ AGENTBOX_RUN_RETENTION_MB: 'lots' })).toThrow(/AGENTBOX_RUN_RETENTION_MB/);
  });

  it('holds the device name to the name rule the fleet service applies', () => {
    expect(sut({ AGENTBOX_DEVICE_NAME: ' Kitchen box ' }).deviceName).toBe('Kitchen box');
    expect(() => sut({ AGENTBOX_DEVICE_NAME: 'box\u202eexe' })).toThrow(/AGENTBOX_DEVICE_NAME/);
    expect(() => sut({ AGENTBOX_DEVICE_NAME: '   ' })).toThrow(/AGENTBOX_DEVICE_NAME/);
  });

  it('resolves the state dir to an absolute path and trims the fleet URL', () => {
    const config = sut({ AGENTBOX_STATE_DIR: 'rel/state', AGENTBOX_FLEET_URL: 'http://fleet:8080/' });
    expect(config.stateDir.startsWith('/')).toBe(true);
    expect(config.fleetUrl).toBe('http://fleet:8080');
  });

  it('names every bad variable in one error', () => {
    expect(() =>
      sut({
        AGENTBOX_FLEET_URL: 'ftp://x',
        AGENTBOX_TELEMETRY_INTERVAL_SEC: '0',
        AGENTBOX_HARDWARE_ID: 'a/b',
      }),
    ).toThrow(ConfigError);
    try {
      sut({
        AGENTBOX_FLEET_URL: 'ftp://x',
        AGENTBOX_TELEMETRY_INTERVAL_SEC: '0',
        AGENTBOX_HARDWARE_ID: 'a/b',
      });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('AGENTBOX_FLEET_URL');
      expect(message).toContain('AGENTBOX_TELEMETRY_INTERVAL_SEC');
      expect(message).toContain('AGENTBOX_HARDWARE_ID');
    }
  });

  it('treats empty variables as unset', () => {
    expect(sut({ AGENTBOX_CLAIM_TOKEN: '', AGENTBOX_MQTT_URL: '' }).claimToken).toBeUndefined();
  });

  it('never puts the claim token into the error message', () => {
    expect(() => sut({ AGENTBOX_CLAIM_TOKEN: 'short-secret' })).toThrow(/AGENTBOX_CLAIM_TOKEN/);
    expect(() => sut({ AGENTBOX_CLAIM_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });
});
