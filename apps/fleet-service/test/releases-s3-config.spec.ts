import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AppConfig, ConfigError } from '../src/config/app-config.js';

const base = { AGENTBOX_DATA_DIR: '/var/lib/agentbox-fleet' };
const s3 = {
  AGENTBOX_ARTIFACTS_S3_BUCKET: 'agentbox-releases',
  AGENTBOX_ARTIFACTS_S3_ENDPOINT: 'https://minio.internal:9000',
};

function configError(env: Record<string, string>): string {
  try {
    AppConfig.fromEnv({ ...base, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('artifact storage configuration', () => {
  it('keeps bundles on disk by default, in AGENTBOX_ARTIFACTS_DIR or <dataDir>/artifacts', () => {
    expect(AppConfig.fromEnv(base).ota.artifacts).toEqual({
      type: 'disk',
      dir: '/var/lib/agentbox-fleet/artifacts',
    });
    expect(AppConfig.fromEnv({ ...base, AGENTBOX_ARTIFACTS_DIR: '/srv/bundles' }).ota.artifacts).toEqual({
      type: 'disk',
      dir: '/srv/bundles',
    });
  });

  it('selects an S3-compatible bucket with AGENTBOX_ARTIFACTS_S3_BUCKET', () => {
    const config = AppConfig.fromEnv({
      ...base,
      ...s3,
      AGENTBOX_ARTIFACTS_S3_PREFIX: 'fleet/releases',
      AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE: 'true',
      AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY: 'very-secret-value',
    });
    expect(config.ota.artifacts).toMatchObject({
      type: 's3',
      bucket: 'agentbox-releases',
      endpoint: 'https://minio.internal:9000',
      // S3-compatible stores get a region for the signature even when none is set.
      region: 'us-east-1',
      prefix: 'fleet/releases/',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE' },
    });
    const storage = config.ota.artifacts;
    expect(storage.type === 's3' && storage.credentials?.secretAccessKey).toBe('very-secret-value');
    // The secret never shows when the configuration is logged or serialized.
    expect(JSON.stringify(config)).not.toContain('very-secret-value');
    expect(inspect(config, { depth: 10 })).not.toContain('very-secret-value');
  });

  it('leaves AWS S3 credentials to the SDK chain and takes the region from the environment', () => {
    const aws = AppConfig.fromEnv({
      ...base,
      AGENTBOX_ARTIFACTS_S3_BUCKET: 'agentbox-releases',
      AWS_REGION: 'eu-central-1',
    }).ota.artifacts;
    expect(aws).toMatchObject({ type: 's3', region: 'eu-central-1', prefix: '', credentials: undefined });
    expect(aws.type === 's3' && aws.endpoint).toBeUndefined();
    const r2 = AppConfig.fromEnv({ ...base, ...s3, AGENTBOX_ARTIFACTS_S3_REGION: 'auto' }).ota.artifacts;
    expect(r2).toMatchObject({ region: 'auto', forcePathStyle: false });
  });

  it('refuses incomplete or contradictory settings at start, naming the variable', () => {
    expect(configError({ AGENTBOX_ARTIFACTS_S3_BUCKET: 'agentbox-releases' })).toContain(
      'AGENTBOX_ARTIFACTS_S3_REGION: needed for AWS S3',
    );
    expect(configError({ AGENTBOX_ARTIFACTS_S3_ENDPOINT: 'https://minio.internal:9000' })).toContain(
      'AGENTBOX_ARTIFACTS_S3_ENDPOINT: needs AGENTBOX_ARTIFACTS_S3_BUCKET',
    );
    expect(configError({ ...s3, AGENTBOX_ARTIFACTS_DIR: '/srv/bundles' })).toContain(
      'AGENTBOX_ARTIFACTS_DIR: release bundles go to AGENTBOX_ARTIFACTS_S3_BUCKET',
    );
    const halfCredentials = configError({
      ...s3,
      AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY: 'very-secret-value',
    });
    expect(halfCredentials).toContain('AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID: needed with');
    expect(halfCredentials).not.toContain('very-secret-value');
    expect(configError({ ...s3, AGENTBOX_ARTIFACTS_S3_ENDPOINT: 'minio:9000' })).toContain(
      'AGENTBOX_ARTIFACTS_S3_ENDPOINT',
    );
    expect(configError({ ...s3, AGENTBOX_ARTIFACTS_S3_BUCKET: 'a/b' })).toContain(
      'AGENTBOX_ARTIFACTS_S3_BUCKET: must be a bucket name',
    );
    expect(configError({ ...s3, AGENTBOX_ARTIFACTS_S3_PREFIX: '/releases' })).toContain(
      "does not start with '/'",
    );
    expect(configError({ ...s3, AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE: 'maybe' })).toContain(
      'AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE',
    );
  });
});
