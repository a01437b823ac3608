import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppConfig, ConfigError } from '../../config/app-config.js';
import { SECRETS_KEY_FILE, loadSecretsKey } from './secrets-key.js';

describe('loadSecretsKey', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'agentbox-secrets-key-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates a key into the data dir with mode 0600 on first start and reuses it', () => {
    const sut = loadSecretsKey(undefined, join(dataDir, 'nested'));
    expect(sut).toHaveLength(32);
    const path = join(dataDir, 'nested', SECRETS_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadSecretsKey(undefined, join(dataDir, 'nested')).equals(sut)).toBe(true);
  });

  it('prefers the configured key and refuses a damaged key file', () => {
    const configured = randomBytes(32);
    expect(loadSecretsKey(configured.toString('base64'), dataDir).equals(configured)).toBe(true);
    writeFileSync(join(dataDir, SECRETS_KEY_FILE), 'c2hvcnQ=\n');
    expect(() => loadSecretsKey(undefined, dataDir)).toThrow(/32 bytes/);
  });

  it('validates AGENTBOX_SECRETS_KEY and AGENTBOX_SECRETS_KEY_PREVIOUS at boot', () => {
    const key = randomBytes(32).toString('base64');
    const previous = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const config = AppConfig.fromEnv({
      AGENTBOX_DATA_DIR: dataDir,
      AGENTBOX_SECRETS_KEY: key,
      AGENTBOX_SECRETS_KEY_PREVIOUS: previous.join(', '),
    });
    expect(config.secrets).toEqual({ key, previousKeys: previous });
    expect(() =>
      AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dataDir, AGENTBOX_SECRETS_KEY: 'too-short' }),
    ).toThrow(ConfigError);
    expect(() =>
      AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dataDir, AGENTBOX_SECRETS_KEY_PREVIOUS: `${key},nope` }),
    ).toThrow(/AGENTBOX_SECRETS_KEY_PREVIOUS/);
  });
});
