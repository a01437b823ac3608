import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { S3ArtifactStorage } from '../src/config/artifact-storage.js';

/** The parts of s3rver (a Koa application) used here; the package ships no types. */
interface KoaContext {
  method: string;
  path: string;
  url: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  middleware: Middleware[];
  store: { getResourcePath(bucket: string, key: undefined, resource: string): string };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** The access key s3rver knows (it checks the key id; it does not verify SigV4 signatures). */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

export interface S3Request {
  method: string;
  url: string;
  range: string | undefined;
}

export interface FakeS3 {
  endpoint: string;
  bucket: string;
  /** Every request the server got, in order. */
  requests: S3Request[];
  /** Drop Range headers before the server sees them, as a proxy that does not know them would. */
  ignoreRanges: boolean;
  /** Environment selecting this bucket for the fleet service. */
  env(prefix?: string): Record<string, string>;
  storage(prefix?: string): S3ArtifactStorage;
  /** Object keys in the bucket (ListObjectsV2). */
  keys(): Promise<string[]>;
  /** Deletes an object behind the fleet service's back. */
  deleteKey(key: string): Promise<void>;
  /** Multipart uploads neither completed nor aborted. */
  pendingUploads(): string[];
  close(): Promise<void>;
}

/**
 * s3rver (an S3 API over a temp directory) on a free loopback port, with the one operation it lacks
 * that the artifact store uses: AbortMultipartUpload (`DELETE /<bucket>/<key>?uploadId=`), answered
 * as S3 does (204, or 404 NoSuchUpload).
 */
export async function startFakeS3(bucket = 'agentbox-releases'): Promise<FakeS3> {
  const directory = mkdtempSync(join(tmpdir(), 'agentbox-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const requests: S3Request[] = [];
  const state = { ignoreRanges: false };
  const uploadsDir = () => server.store.getResourcePath(bucket, undefined, 'uploads');
  const abortMultipart: Middleware = async (ctx, next) => {
    const range = ctx.headers.range;
    requests.push({ method: ctx.method, url: ctx.url, range: typeof range === 'string' ? range : undefined });
    if (state.ignoreRanges) delete ctx.headers.range;
    const uploadId = ctx.query.uploadId;
    if (ctx.method !== 'DELETE' || typeof uploadId !== 'string') {
      await next();
      return;
    }
    const dir = join(uploadsDir(), uploadId);
    if (!/^[0-9a-f]+$/.test(uploadId) || !existsSync(dir)) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
        '<Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    rmSync(dir, { recursive: true, force: true });
    ctx.status = 204;
  };
  server.middleware.unshift(abortMultipart);
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
  return {
    endpoint,
    bucket,
    requests,
    get ignoreRanges() {
      return state.ignoreRanges;
    },
    set ignoreRanges(value: boolean) {
      state.ignoreRanges = value;
    },
    env: (prefix) => ({
      AGENTBOX_ARTIFACTS_S3_BUCKET: bucket,
      AGENTBOX_ARTIFACTS_S3_ENDPOINT: endpoint,
      AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE: 'true',
      AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      ...(prefix === undefined ? {} : { AGENTBOX_ARTIFACTS_S3_PREFIX: prefix }),
    }),
    storage: (prefix = '') => ({
      type: 's3',
      bucket,
      prefix,
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    }),
    keys: async () => {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
    },
    deleteKey: async (key) => {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    pendingUploads: () => (existsSync(uploadsDir()) ? readdirSync(uploadsDir()) : []),
    close: async () => {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
