import { resolve } from 'node:path';
import type { FleetEnv } from './fleet-env.schema.js';

/** Static S3 credentials; the secret is not enumerable, so it never shows in a logged or serialized config. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

function s3Credentials(accessKeyId: string, secretAccessKey: string): S3Credentials {
  const credentials = { accessKeyId } as S3Credentials;
  Object.defineProperty(credentials, 'secretAccessKey', { value: secretAccessKey, enumerable: false });
  return credentials;
}

export interface DiskArtifactStorage {
  type: 'disk';
  dir: string;
}

export interface S3ArtifactStorage {
  type: 's3';
  bucket: string;
  /** Empty, or ends with '/'. */
  prefix: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Unset: the AWS SDK's default credential chain. */
  credentials: S3Credentials | undefined;
}

export type ArtifactStorage = DiskArtifactStorage | S3ArtifactStorage;

/** Where release bundles are kept, or the configuration problems that prevent knowing it. */
export function artifactStorage(
  env: FleetEnv,
  dataDir: string,
  awsRegion: string | undefined,
): ArtifactStorage | string[] {
  const bucket = env.AGENTBOX_ARTIFACTS_S3_BUCKET;
  const s3Settings = (Object.keys(env) as (keyof FleetEnv)[]).filter(
    (name) =>
      name.startsWith('AGENTBOX_ARTIFACTS_S3_') &&
      name !== 'AGENTBOX_ARTIFACTS_S3_BUCKET' &&
      name !== 'AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE' &&
      env[name] !== undefined,
  );
  if (bucket === undefined) {
    if (s3Settings.length > 0) {
      return s3Settings.map(
        (name) => `${name}: needs AGENTBOX_ARTIFACTS_S3_BUCKET (S3 storage of release bundles)`,
      );
    }
    return { type: 'disk', dir: resolve(env.AGENTBOX_ARTIFACTS_DIR ?? resolve(dataDir, 'artifacts')) };
  }
  const problems: string[] = [];
  if (env.AGENTBOX_ARTIFACTS_DIR !== undefined) {
    problems.push(
      'AGENTBOX_ARTIFACTS_DIR: release bundles go to AGENTBOX_ARTIFACTS_S3_BUCKET; set one of the two, not both',
    );
  }
  const accessKeyId = env.AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    problems.push(
      accessKeyId === undefined
        ? 'AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID: needed with AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY'
        : 'AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY: needed with AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID',
    );
  }
  const endpoint = env.AGENTBOX_ARTIFACTS_S3_ENDPOINT;
  // S3-compatible stores mostly ignore the region but the request signature names one.
  const region =
    env.AGENTBOX_ARTIFACTS_S3_REGION ?? awsRegion ?? (endpoint === undefined ? undefined : 'us-east-1');
  if (region === undefined) {
    problems.push(
      'AGENTBOX_ARTIFACTS_S3_REGION: needed for AWS S3 (or AWS_REGION), e.g. eu-west-1; or set AGENTBOX_ARTIFACTS_S3_ENDPOINT',
    );
  }
  if (problems.length > 0 || region === undefined) return problems;
  const prefix = env.AGENTBOX_ARTIFACTS_S3_PREFIX ?? '';
  return {
    type: 's3',
    bucket,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    region,
    endpoint,
    forcePathStyle: env.AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE,
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? s3Credentials(accessKeyId, secretAccessKey)
        : undefined,
  };
}
