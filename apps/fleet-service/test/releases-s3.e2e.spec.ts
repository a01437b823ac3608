import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleasesService } from '../src/modules/releases/releases.service.js';
import { ADMIN_PASSWORD, drivers, useFleetApp } from './support/fleet-app.js';
import { envelope, releaseManifest, rootMetadata, signingKey } from './support/ota-signing.js';
import { startFakeS3, type FakeS3 } from './releases-s3-server.js';

const sqlite = drivers.filter((driver) => driver.name === 'sqlite');

describe.each(sqlite)('release bundles in an S3 bucket, end to end ($name)', (driver) => {
  let s3: FakeS3;
  let admin: string;
  let deviceId: string;
  let releaseId: string;
  const rootKey = signingKey();
  const releaseKey = signingKey();
  // Larger than one 8 MiB part: the upload goes as a multipart upload.
  const bundle = randomBytes(9 * 1024 * 1024 + 4_321);
  const release = envelope(releaseManifest('2.0.0', bundle), [releaseKey]);
  const key = `fleet/releases/${release.signed.artifact.sha256}.tar.gz`;

  // Registered before the app's hooks: the bucket is up before the app boots and closes after it.
  beforeAll(async () => {
    s3 = await startFakeS3();
  });
  afterAll(async () => {
    await s3?.close();
  });

  const app = useFleetApp(driver, 'releases-s3', {
    env: (dir) => {
      const rootFile = join(dir, 'root.json');
      writeFileSync(rootFile, JSON.stringify(envelope(rootMetadata(1, [rootKey], [releaseKey]), [rootKey])));
      // Without a trailing slash: the service adds it.
      return { AGENTBOX_OTA_ROOT_FILE: rootFile, ...s3.env('fleet/releases') };
    },
  });

  beforeAll(async () => {
    admin = await app.login('admin', ADMIN_PASSWORD);
    const claim = await app.call('POST', '/api/v1/claim-tokens', { token: admin, body: { maxUses: 1 } });
    const provisioned = await app.call('POST', '/api/v1/provision', {
      body: { claimToken: claim.body.token, hardwareId: 'releases-s3-e2e-hw-1' },
    });
    expect(provisioned.status).toBe(200);
    deviceId = provisioned.body.deviceId;
  }, 60_000);

  it('refuses a bundle whose hash does not match, leaving nothing in the bucket', async () => {
    const created = await app.call('POST', '/api/v1/releases', { token: admin, body: release });
    expect(created.status).toBe(201);
    releaseId = created.body.id;

    const flipped = Buffer.from(bundle);
    flipped[77] = (flipped[77] ?? 0) ^ 0xff;
    s3.requests.length = 0;
    const refused = await app.call('PUT', `/api/v1/releases/${releaseId}/artifact`, {
      token: admin,
      raw: flipped,
    });
    expect({ status: refused.status, code: refused.body.code }).toEqual({
      status: 400,
      code: 'ARTIFACT_HASH_MISMATCH',
    });
    expect(
      s3.requests.some((request) => request.method === 'DELETE' && request.url.includes('uploadId=')),
    ).toBe(true);
    expect(s3.pendingUploads()).toEqual([]);
    expect(await s3.keys()).toEqual([]);
    // The disk store is not used at all.
    expect(existsSync(join(app.dataDir, 'artifacts'))).toBe(false);
  });

  it('stores the matching bundle under <prefix><sha256>.tar.gz and marks the release ready', async () => {
    const uploaded = await app.call('PUT', `/api/v1/releases/${releaseId}/artifact`, {
      token: admin,
      raw: bundle,
    });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body.status).toBe('ready');
    expect(await s3.keys()).toEqual([key]);
    expect(s3.pendingUploads()).toEqual([]);
  });

  it('serves the box its bundle from the bucket, resumed with a Range from the middle', async () => {
    const releases = app.running.app.get(ReleasesService);
    const token = releases.issueDownloadToken(deviceId, releaseId);
    const url = new URL(releases.artifactUrl(releaseId, deviceId));
    const path = `${url.pathname}${url.search}`;
    const half = Math.floor(bundle.length / 2) + 1;

    // The first attempt breaks off after `half` bytes; the box resumes from there.
    s3.requests.length = 0;
    const first = await app.call('GET', path, { token, headers: { range: `bytes=0-${half - 1}` } });
    expect(first.status).toBe(206);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toBe(`"${release.signed.artifact.sha256}"`);
    const rest = await app.call('GET', path, {
      token,
      headers: { range: `bytes=${half}-`, 'if-range': etag },
    });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${half}-${bundle.length - 1}/${bundle.length}`);
    expect(rest.headers.get('content-length')).toBe(String(bundle.length - half));
    expect(Buffer.concat([first.bytes, rest.bytes]).equals(bundle)).toBe(true);
    // Each range was read from the bucket as that range, not as the whole object.
    expect(s3.requests.filter((request) => request.method === 'GET').map((request) => request.range)).toEqual(
      [`bytes=0-${half - 1}`, `bytes=${half}-${bundle.length - 1}`],
    );

    const whole = await app.call('GET', path, { token });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(bundle.length));
    expect(whole.bytes.equals(bundle)).toBe(true);

    const beyond = await app.call('GET', path, { token, headers: { range: `bytes=${bundle.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bundle.length}`);

    const anonymous = await app.call('GET', path);
    expect(anonymous.status).toBe(401);
  });

  it('answers ARTIFACT_MISSING when the object is gone from the bucket', async () => {
    const other = randomBytes(4_096);
    const created = await app.call('POST', '/api/v1/releases', {
      token: admin,
      body: envelope(releaseManifest('2.0.1', other), [releaseKey]),
    });
    const id = created.body.id as string;
    expect(
      (await app.call('PUT', `/api/v1/releases/${id}/artifact`, { token: admin, raw: other })).status,
    ).toBe(200);
    const sha256 = createHash('sha256').update(other).digest('hex');
    await s3.deleteKey(`fleet/releases/${sha256}.tar.gz`);
    const token = app.running.app.get(ReleasesService).issueDownloadToken(deviceId, id);
    const missing = await app.call('GET', `/api/v1/releases/${id}/artifact?device=${deviceId}`, {
      token,
      headers: { range: 'bytes=100-' },
    });
    expect({ status: missing.status, code: missing.body.code }).toEqual({
      status: 409,
      code: 'ARTIFACT_MISSING',
    });
    expect(missing.headers.get('content-disposition')).toBeNull();
    // Deleting the release deletes an object that is not there: no error.
    expect((await app.call('DELETE', `/api/v1/releases/${id}`, { token: admin })).status).toBe(204);
    expect(await s3.keys()).toEqual([key]);
  });

  it('deletes the bundle from the bucket with its release', async () => {
    const deleted = await app.call('DELETE', `/api/v1/releases/${releaseId}`, { token: admin });
    expect(deleted.status).toBe(204);
    expect(await s3.keys()).toEqual([]);
  });
});
