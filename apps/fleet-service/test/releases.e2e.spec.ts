import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  AuditEntryDtoSchema,
  ReleaseDetailDtoSchema,
  ReleaseDtoSchema,
  type SignedRelease,
  type SignedRoot,
} from '@agentbox/schemas';
import { DownloadTokens } from '../src/modules/releases/download-tokens.js';
import { OtaTrustService } from '../src/modules/releases/ota-trust.service.js';
import { ReleasesService } from '../src/modules/releases/releases.service.js';
import { loadSecretsKey } from '../src/modules/secrets/secrets-key.js';
import { drivers, expectError, useFleetApp } from './support/fleet-app.js';
import { envelope, releaseManifest as manifest, rootMetadata, signingKey } from './support/ota-signing.js';

const DAY_MS = 86_400_000;

describe.each(drivers)('releases, artifacts, trusted root and audit over HTTP ($name)', (driver) => {
  const skip = driver.skip;
  let artifactsDir: string;
  let deviceId: string;
  let otherDeviceId: string;

  const rootKey = signingKey();
  const releaseKey = signingKey();
  const nextRootKey = signingKey();
  const nextReleaseKey = signingKey();
  const strangerKey = signingKey();
  const root1: SignedRoot = envelope(rootMetadata(1, [rootKey], [releaseKey]), [rootKey]);
  const bundle = randomBytes(300_001);
  const good: SignedRelease = envelope(manifest('1.2.0', bundle), [releaseKey]);
  let releaseId: string;

  const app = useFleetApp(driver, 'releases', {
    signIn: 'every role',
    env: (dir) => {
      const rootFile = join(dir, 'root.json');
      writeFileSync(rootFile, JSON.stringify(root1));
      return { AGENTBOX_OTA_ROOT_FILE: rootFile, AGENTBOX_ARTIFACTS_DIR: join(dir, 'bundles') };
    },
  });
  const { call, tokens } = app;

  beforeAll(async () => {
    if (skip) return;
    artifactsDir = join(app.dataDir, 'bundles');

    const claim = await call('POST', '/api/v1/claim-tokens', { token: tokens.admin, body: { maxUses: 2 } });
    for (const hardwareId of ['releases-e2e-hw-1', 'releases-e2e-hw-2']) {
      const provisioned = await call('POST', '/api/v1/provision', {
        body: { claimToken: claim.body.token, hardwareId },
      });
      expect(provisioned.status).toBe(200);
      if (hardwareId.endsWith('1')) deviceId = provisioned.body.deviceId;
      else otherDeviceId = provisioned.body.deviceId;
    }
  }, 60_000);

  /** Bundles kept on disk (the upload area excluded). */
  const storedBundles = () => {
    try {
      return readdirSync(artifactsDir).filter((name) => name !== '.incoming');
    } catch {
      return [];
    }
  };

  it.skipIf(skip)('trusts the root from AGENTBOX_OTA_ROOT_FILE and shows it to viewers', async () => {
    const response = await call('GET', '/api/v1/ota/root', { token: tokens.viewer });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ version: 1, source: 'file', installedBy: 'system' });
    expect(response.body.document).toEqual(root1);
    await expectError(
      call('PUT', '/api/v1/ota/root', { token: tokens.operator, body: root1 }),
      403,
      'FORBIDDEN',
    );
  });

  it.skipIf(skip)(
    'accepts a release signed by a release key of the trusted root, from admins only',
    async () => {
      await expectError(
        call('POST', '/api/v1/releases', { token: tokens.viewer, body: good }),
        403,
        'FORBIDDEN',
      );
      const created = await call('POST', '/api/v1/releases', { token: tokens.admin, body: good });
      expect(created.status).toBe(201);
      const dto = ReleaseDtoSchema.parse(created.body);
      expect(dto).toMatchObject({
        version: '1.2.0',
        channel: 'stable',
        status: 'awaiting-artifact',
        artifact: good.signed.artifact,
        signedBy: [releaseKey.keyid],
        uploadedBy: 'admin',
      });
      releaseId = dto.id;
      const detail = await call('GET', `/api/v1/releases/${releaseId}`, { token: tokens.viewer });
      expect(ReleaseDetailDtoSchema.parse(detail.body).manifest).toEqual(good);
    },
  );

  it.skipIf(skip)(
    'refuses tampered, foreign-key, expired and existing releases with their codes, storing nothing',
    async () => {
      const tampered = structuredClone(good);
      tampered.signed.version = '1.3.0';
      await expectError(
        call('POST', '/api/v1/releases', { token: tokens.admin, body: tampered }),
        400,
        'RELEASE_BAD_SIGNATURE',
      );

      const foreign = envelope(manifest('1.3.0', bundle), [strangerKey]);
      await expectError(
        call('POST', '/api/v1/releases', { token: tokens.admin, body: foreign }),
        400,
        'RELEASE_UNKNOWN_KEY',
      );

      const expired = envelope(
        manifest('1.3.0', bundle, { expires: new Date(Date.now() - 3_600_000).toISOString() }),
        [releaseKey],
      );
      await expectError(
        call('POST', '/api/v1/releases', { token: tokens.admin, body: expired }),
        400,
        'RELEASE_METADATA_EXPIRED',
      );

      const again = envelope(manifest('1.2.0', randomBytes(10)), [releaseKey]);
      await expectError(
        call('POST', '/api/v1/releases', { token: tokens.admin, body: again }),
        409,
        'RELEASE_EXISTS',
      );

      await expectError(
        call('POST', '/api/v1/releases', {
          token: tokens.admin,
          body: { signed: good.signed, signatures: [] },
        }),
        400,
        'VALIDATION_FAILED',
      );

      const list = await call('GET', '/api/v1/releases', { token: tokens.viewer });
      expect(list.body.map((release: { version: string }) => release.version)).toEqual(['1.2.0']);
    },
  );

  it.skipIf(skip)('refuses a bundle of the wrong size or hash and keeps nothing', async () => {
    const path = `/api/v1/releases/${releaseId}/artifact`;
    await expectError(call('PUT', path, { token: tokens.viewer, raw: bundle }), 403, 'FORBIDDEN');
    await expectError(
      call('PUT', path, {
        token: tokens.admin,
        raw: bundle,
        headers: { 'content-type': 'application/x-tar' },
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await expectError(
      call('PUT', path, { token: tokens.admin, raw: bundle.subarray(0, 1_000) }),
      400,
      'ARTIFACT_SIZE_MISMATCH',
    );
    await expectError(
      call('PUT', path, { token: tokens.admin, raw: Buffer.concat([bundle, Buffer.from('extra')]) }),
      400,
      'ARTIFACT_SIZE_MISMATCH',
    );
    const flipped = Buffer.from(bundle);
    flipped[1234] = (flipped[1234] ?? 0) ^ 0xff;
    await expectError(
      call('PUT', path, { token: tokens.admin, raw: flipped }),
      400,
      'ARTIFACT_HASH_MISMATCH',
    );

    expect(storedBundles()).toEqual([]);
    expect(readdirSync(join(artifactsDir, '.incoming'))).toEqual([]);
    const detail = await call('GET', `/api/v1/releases/${releaseId}`, { token: tokens.viewer });
    expect(detail.body.status).toBe('awaiting-artifact');
    const token = app.running.app.get(ReleasesService).issueDownloadToken(deviceId, releaseId);
    await expectError(call('GET', `${path}?device=${deviceId}`, { token }), 409, 'ARTIFACT_MISSING');
  });

  it.skipIf(skip)('stores the matching bundle under its sha256 and marks the release ready', async () => {
    const path = `/api/v1/releases/${releaseId}/artifact`;
    const uploaded = await call('PUT', path, { token: tokens.admin, raw: bundle });
    expect(uploaded.status).toBe(200);
    expect(ReleaseDtoSchema.parse(uploaded.body).status).toBe('ready');
    expect(storedBundles()).toEqual([`${good.signed.artifact.sha256}.tar.gz`]);
    await expectError(call('PUT', path, { token: tokens.admin, raw: bundle }), 409, 'ARTIFACT_PRESENT');
  });

  it.skipIf(skip)('serves the bundle to the box holding a token in two Range requests', async () => {
    const releases = app.running.app.get(ReleasesService);
    const token = releases.issueDownloadToken(deviceId, releaseId);
    const url = new URL(releases.artifactUrl(releaseId, deviceId));
    expect(url.pathname).toBe(`/api/v1/releases/${releaseId}/artifact`);
    const path = `${url.pathname}${url.search}`;
    const half = Math.floor(bundle.length / 2);

    const first = await call('GET', path, { token, headers: { range: `bytes=0-${half - 1}` } });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-${half - 1}/${bundle.length}`);
    expect(first.headers.get('accept-ranges')).toBe('bytes');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toBe(`"${good.signed.artifact.sha256}"`);

    const rest = await call('GET', path, { token, headers: { range: `bytes=${half}-`, 'if-range': etag } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${half}-${bundle.length - 1}/${bundle.length}`);
    expect(Buffer.concat([first.bytes, rest.bytes]).equals(bundle)).toBe(true);

    const whole = await call('GET', path, { token });
    expect(whole.status).toBe(200);
    expect(whole.bytes.equals(bundle)).toBe(true);

    // A stale validator: the client's partial copy is of other bytes, so it gets the whole bundle.
    const stale = await call('GET', path, { token, headers: { range: 'bytes=10-', 'if-range': '"other"' } });
    expect(stale.status).toBe(200);
    expect(stale.bytes.equals(bundle)).toBe(true);

    const beyond = await call('GET', path, { token, headers: { range: `bytes=${bundle.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bundle.length}`);
  });

  it.skipIf(skip)(
    'refuses downloads without a token, with a token for another box or release, or expired',
    async () => {
      const releases = app.running.app.get(ReleasesService);
      const path = `/api/v1/releases/${releaseId}/artifact`;
      await expectError(call('GET', path), 401, 'UNAUTHENTICATED');
      await expectError(call('GET', path, { token: 'dl1.garbage.garbage' }), 401, 'DOWNLOAD_TOKEN_INVALID');

      const otherBox = releases.issueDownloadToken(otherDeviceId, releaseId);
      await expectError(
        call('GET', `${path}?device=${deviceId}`, { token: otherBox }),
        403,
        'DOWNLOAD_TOKEN_MISMATCH',
      );
      const otherRelease = releases.issueDownloadToken(deviceId, '00000000-0000-4000-8000-000000000000');
      await expectError(
        call('GET', `${path}?device=${deviceId}`, { token: otherRelease }),
        403,
        'DOWNLOAD_TOKEN_MISMATCH',
      );

      const issuedLongAgo = new DownloadTokens(
        loadSecretsKey(undefined, app.dataDir),
        60,
        () => Date.now() - DAY_MS,
      );
      await expectError(
        call('GET', `${path}?device=${deviceId}`, { token: issuedLongAgo.issue(deviceId, releaseId) }),
        401,
        'DOWNLOAD_TOKEN_EXPIRED',
      );

      await expectError(call('GET', path, { token: tokens.viewer }), 403, 'FORBIDDEN');
      const asAdmin = await call('GET', path, { token: tokens.admin, headers: { range: 'bytes=-100' } });
      expect(asAdmin.status).toBe(206);
      expect(asAdmin.bytes.equals(bundle.subarray(bundle.length - 100))).toBe(true);
    },
  );

  it.skipIf(skip)('rotates the release key through the next root; the old key is then revoked', async () => {
    const root2 = envelope(rootMetadata(2, [nextRootKey], [nextReleaseKey]), [rootKey, nextRootKey]);
    const onlyNewSigned = envelope(rootMetadata(2, [nextRootKey], [nextReleaseKey]), [nextRootKey]);
    const putRoot = (body: SignedRoot) => call('PUT', '/api/v1/ota/root', { token: tokens.admin, body });
    await expectError(putRoot(onlyNewSigned), 400, 'OTA_ROOT_REJECTED');
    const skipping = envelope(rootMetadata(3, [nextRootKey], [nextReleaseKey]), [rootKey, nextRootKey]);
    await expectError(putRoot(skipping), 409, 'OTA_ROOT_NOT_NEXT');

    const installed = await putRoot(root2);
    expect(installed.status).toBe(200);
    expect(installed.body).toMatchObject({ version: 2, source: 'upload', installedBy: 'admin' });
    await expectError(putRoot(root2), 409, 'OTA_ROOT_NOT_NEXT');
    expect(await app.running.app.get(OtaTrustService).chain()).toEqual([root1, root2]);

    const byOldKey = envelope(manifest('1.4.0', bundle), [releaseKey]);
    await expectError(
      call('POST', '/api/v1/releases', { token: tokens.admin, body: byOldKey }),
      400,
      'RELEASE_KEY_REVOKED',
    );
    // Optional fields left out: the signature covers the document as sent, which is stored unchanged.
    const { notes: _notes, rollbackTarget: _rollbackTarget, ...bare } = manifest('1.4.0', bundle);
    const byNewKey = envelope(bare, [nextReleaseKey]);
    const created = await call('POST', '/api/v1/releases', { token: tokens.admin, body: byNewKey });
    expect(created.status).toBe(201);
    const detail = await call('GET', `/api/v1/releases/${created.body.id}`, { token: tokens.viewer });
    expect(detail.body.manifest).toEqual(byNewKey);
    expect(detail.body).toMatchObject({ notes: '', rollbackTarget: false, signedBy: [nextReleaseKey.keyid] });
  });

  it.skipIf(skip)('deletes only releases no rollout uses, with their bundle', async () => {
    const releases = app.running.app.get(ReleasesService);
    releases.addUsageCheck((release) => Promise.resolve(release.id === releaseId ? 'rollout r-1' : null));
    await expectError(
      call('DELETE', `/api/v1/releases/${releaseId}`, { token: tokens.viewer }),
      403,
      'FORBIDDEN',
    );
    await expectError(
      call('DELETE', `/api/v1/releases/${releaseId}`, { token: tokens.admin }),
      409,
      'RELEASE_IN_USE',
    );

    const list = await call('GET', '/api/v1/releases', { token: tokens.viewer });
    const unused = list.body.find((release: { version: string }) => release.version === '1.4.0');
    const removed = await call('DELETE', `/api/v1/releases/${unused.id}`, { token: tokens.admin });
    expect(removed.status).toBe(204);
    await expectError(
      call('GET', `/api/v1/releases/${unused.id}`, { token: tokens.viewer }),
      404,
      'RELEASE_NOT_FOUND',
    );
    // Its bundle was never uploaded; the used release keeps its own.
    expect(storedBundles()).toEqual([`${good.signed.artifact.sha256}.tar.gz`]);
  });

  it.skipIf(skip)('records every release and root action in the audit log', async () => {
    await expectError(call('GET', '/api/v1/audit', { token: tokens.viewer }), 403, 'FORBIDDEN');
    const response = await call('GET', '/api/v1/audit?limit=100', { token: tokens.operator });
    expect(response.status).toBe(200);
    const all = AuditEntryDtoSchema.array().parse(response.body);
    // The entries the release and root services recorded; every other request is audited by its route
    // (with its method and path), refusals by role included.
    const entries = all.filter(
      (entry) => /^(release|ota-root)\./.test(entry.action) && entry.detail.method === undefined,
    );
    expect(
      all.some((entry) => entry.action === 'release.created' && entry.detail.method && !entry.allowed),
    ).toBe(true);
    const actions = entries.map((entry) => entry.action).reverse();
    expect(actions).toEqual([
      'ota-root.installed',
      'release.created',
      'release.rejected',
      'release.rejected',
      'release.rejected',
      'release.rejected',
      'release.artifact-rejected',
      'release.artifact-rejected',
      'release.artifact-rejected',
      'release.artifact-uploaded',
      'ota-root.rejected',
      'ota-root.rejected',
      'ota-root.installed',
      'ota-root.rejected',
      'release.rejected',
      'release.created',
      'release.deleted',
    ]);
    const reasons = entries
      .filter((entry) => entry.action === 'release.rejected')
      .map((entry) => entry.detail.reason)
      .reverse();
    expect(reasons).toEqual(['bad-signature', 'unknown-key', 'metadata-expired', 'exists', 'key-revoked']);

    const forRelease = await call('GET', `/api/v1/audit?targetType=release&targetId=${releaseId}`, {
      token: tokens.admin,
    });
    const recordedForRelease = AuditEntryDtoSchema.array()
      .parse(forRelease.body)
      .filter((entry) => entry.detail.method === undefined);
    expect(recordedForRelease.map((entry) => entry.action)).toEqual([
      'release.artifact-uploaded',
      'release.artifact-rejected',
      'release.artifact-rejected',
      'release.artifact-rejected',
      'release.created',
    ]);
    expect(recordedForRelease.at(-1)).toMatchObject({
      actor: 'admin',
      actorType: 'user',
      status: 201,
      sourceAddress: '127.0.0.1',
      detail: { version: '1.2.0' },
    });
    // A refused bundle is recorded with the refusal's status and code.
    expect(recordedForRelease[1]).toMatchObject({
      outcome: 'failed',
      errorCode: expect.any(String) as unknown,
    });
  });
  it.skipIf(skip)(
    'keeps one release per version and architecture: a mixed fleet gets a build per architecture',
    async () => {
      const forX64 = envelope(manifest('1.5.0', bundle, { compatibility: { arch: ['x64'] } }), [
        nextReleaseKey,
      ]);
      const armBundle = randomBytes(64);
      const forArm = envelope(manifest('1.5.0', armBundle, { compatibility: { arch: ['arm64'] } }), [
        nextReleaseKey,
      ]);
      const x64 = await call('POST', '/api/v1/releases', { token: tokens.admin, body: forX64 });
      expect(x64.status).toBe(201);
      const arm = await call('POST', '/api/v1/releases', { token: tokens.admin, body: forArm });
      expect(arm.status).toBe(201);

      const overlapping = envelope(
        manifest('1.5.0', randomBytes(32), { compatibility: { arch: ['arm64', 'x64'] } }),
        [nextReleaseKey],
      );
      const refused = await expectError(
        call('POST', '/api/v1/releases', { token: tokens.admin, body: overlapping }),
        409,
        'RELEASE_EXISTS',
      );
      expect(refused.body.message).toContain('version 1.5.0 already exists for arm64, x64');

      const releases = app.running.app.get(ReleasesService);
      // A box takes the build for its architecture once that build has its bundle; until then the one shipped.
      expect((await releases.buildFor(x64.body.id, 'arm64')).id).toBe(x64.body.id);
      const armPath = `/api/v1/releases/${arm.body.id}/artifact`;
      expect((await call('PUT', armPath, { token: tokens.admin, raw: armBundle })).status).toBe(200);
      expect((await releases.buildFor(x64.body.id, 'arm64')).id).toBe(arm.body.id);
      expect((await releases.buildFor(x64.body.id, 'x64')).id).toBe(x64.body.id);
      expect((await releases.buildFor(x64.body.id, undefined)).id).toBe(x64.body.id);
      expect((await releases.buildFor(arm.body.id, 'x64')).id).toBe(arm.body.id);

      // A rollout of the x64 build uses the arm64 one too: neither can be deleted under it.
      releases.addUsageCheck((release) =>
        Promise.resolve(release.version === '1.5.0' ? 'rollout r-150' : null),
      );
      await expectError(
        call('DELETE', `/api/v1/releases/${arm.body.id}`, { token: tokens.admin }),
        409,
        'RELEASE_IN_USE',
      );
    },
  );
});
