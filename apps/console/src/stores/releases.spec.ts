import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, SignedReleaseSchema } from '@agentbox/schemas';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Release } from '@/api/ota-types';
import { useAuthStore } from '@/stores/auth';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { MANIFEST_UNREADABLE, useReleasesStore, type PublishStep } from './releases';

const KEYID = 'a'.repeat(64);

function signedManifest(privateKey: KeyObject, version: string, bundle: Buffer) {
  // No `notes` or `rollbackTarget`: the console must not fill in defaults, or the signature breaks.
  const signed = {
    type: 'release',
    version,
    channel: 'stable',
    createdAt: '2026-11-01T00:00:00.000Z',
    expires: '2027-05-01T00:00:00.000Z',
    artifact: {
      name: `agentbox-device-agent-${version}.tar.gz`,
      size: bundle.length,
      sha256: createHash('sha256').update(bundle).digest('hex'),
    },
    compatibility: { arch: ['x64', 'arm64'] },
  };
  const sig = sign(null, Buffer.from(canonicalJson(signed)), privateKey).toString('base64');
  return { signed, signatures: [{ keyid: KEYID, sig }] };
}

describe('releases store', () => {
  let server: FleetServer;
  let releases: Map<string, Release>;
  let artifacts: Map<string, Buffer>;
  let keys: { publicKey: KeyObject; privateKey: KeyObject };
  const inUse = new Set<string>();
  const bundle = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256));

  const refuse = (status: number, code: string, message: string) => ({
    status,
    body: { statusCode: status, code, message },
  });

  useFleetServer((fleet) => {
    releases = new Map();
    artifacts = new Map();
    inUse.clear();
    keys = generateKeyPairSync('ed25519');
    server = fleet;
    server.route('POST', '/api/v1/auth/login', () => ({
      status: 200,
      body: {
        accessToken: 'jwt-admin',
        tokenType: 'Bearer',
        expiresIn: 3600,
        user: { username: 'root', role: 'admin' },
      },
    }));
    server.route('GET', '/api/v1/releases', () => ({ status: 200, body: [...releases.values()] }));
    // Stands in for the fleet service's checks: the real Ed25519 signature over the canonical document.
    server.route('POST', '/api/v1/releases', (_req, _url, body) => {
      const parsed = SignedReleaseSchema.safeParse(JSON.parse(body));
      if (!parsed.success) return refuse(400, 'VALIDATION_FAILED', parsed.error.message);
      const raw = (JSON.parse(body) as { signed: unknown }).signed;
      const signature = Buffer.from(parsed.data.signatures[0]!.sig, 'base64');
      if (!verify(null, Buffer.from(canonicalJson(raw)), keys.publicKey, signature))
        return refuse(400, 'RELEASE_BAD_SIGNATURE', 'Release refused (bad-signature)');
      const manifest = parsed.data.signed;
      if ([...releases.values()].some((r) => r.version === manifest.version))
        return refuse(409, 'RELEASE_EXISTS', `Release ${manifest.version} exists`);
      const id = `00000000-0000-4000-8000-00000000000${releases.size + 1}`;
      const now = new Date(Date.UTC(2026, 10, 1, 0, releases.size)).toISOString();
      const release: Release = {
        id,
        version: manifest.version,
        channel: manifest.channel,
        status: 'awaiting-artifact',
        artifact: manifest.artifact,
        compatibility: { arch: manifest.compatibility.arch },
        notes: manifest.notes,
        rollbackTarget: manifest.rollbackTarget,
        createdAt: manifest.createdAt,
        expires: manifest.expires,
        signedBy: [KEYID],
        uploadedBy: 'root',
        uploadedAt: now,
        updatedAt: now,
      };
      releases.set(id, release);
      server.route('PUT', `/api/v1/releases/${id}/artifact`, (req, _u, _b, raw) => {
        if (req.headers.authorization !== 'Bearer jwt-admin') return refuse(401, 'UNAUTHENTICATED', 'no');
        if (req.headers['content-type'] !== 'application/octet-stream')
          return refuse(415, 'UNSUPPORTED_MEDIA_TYPE', 'octet-stream');
        const current = releases.get(id)!;
        if (raw.length !== current.artifact.size)
          return refuse(400, 'ARTIFACT_SIZE_MISMATCH', `expected ${current.artifact.size} bytes`);
        if (createHash('sha256').update(raw).digest('hex') !== current.artifact.sha256)
          return refuse(400, 'ARTIFACT_HASH_MISMATCH', 'sha256 differs');
        artifacts.set(id, raw);
        const ready: Release = { ...current, status: 'ready' };
        releases.set(id, ready);
        return { status: 200, body: ready };
      });
      server.route('DELETE', `/api/v1/releases/${id}`, () => {
        if (inUse.has(id)) return refuse(409, 'RELEASE_IN_USE', 'rollout r1 uses it');
        releases.delete(id);
        return { status: 204 };
      });
      return { status: 201, body: release };
    });
  });

  beforeEach(async () => {
    // The bundle goes up with XMLHttpRequest on the page's own origin, as in the browser.
    (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${server.baseUrl}/`);
    await useAuthStore().login('root', 'pw');
  });

  afterEach(() => {
    useAuthStore().logout();
  });

  it('publishes the signed manifest untouched, then the bundle byte for byte, step by step', async () => {
    const sut = useReleasesStore();
    const steps: PublishStep[] = [];
    const progress: number[] = [];
    const manifest = signedManifest(keys.privateKey, '1.5.0', bundle);

    const release = await sut.publish({
      manifestText: JSON.stringify(manifest, null, 2),
      bundle: new Blob([bundle]),
      onStep: (step) => steps.push(step),
      onProgress: ({ loaded, total }) => progress.push(loaded / total),
    });

    expect(steps).toEqual(['manifest', 'bundle', 'done']);
    expect(release).toMatchObject({ version: '1.5.0', status: 'ready' });
    expect(artifacts.get(release.id)?.equals(bundle)).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(sut.get(release.id)?.status).toBe('ready');
  });

  it('shows the refusal code of a tampered manifest and uploads nothing', async () => {
    const sut = useReleasesStore();
    const manifest = signedManifest(keys.privateKey, '1.5.0', bundle);
    manifest.signed.version = '1.6.0';

    await expect(
      sut.publish({ manifestText: JSON.stringify(manifest), bundle: new Blob([bundle]) }),
    ).rejects.toMatchObject({ code: 'RELEASE_BAD_SIGNATURE', statusCode: 400 });
    expect(server.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    expect(sut.all).toEqual([]);
  });

  it('refuses a file that is not a signed manifest before sending anything', async () => {
    const sut = useReleasesStore();
    const before = server.requests.length;
    await expect(
      sut.publish({ manifestText: '{"signed": {"version": "x"}}', bundle: new Blob([bundle]) }),
    ).rejects.toMatchObject({ code: MANIFEST_UNREADABLE });
    await expect(sut.publish({ manifestText: 'not json', bundle: new Blob([bundle]) })).rejects.toMatchObject(
      {
        code: MANIFEST_UNREADABLE,
      },
    );
    expect(server.requests.length).toBe(before);
  });

  it('keeps a release awaiting its bundle when the bundle does not match, and takes it up again', async () => {
    const sut = useReleasesStore();
    const manifest = JSON.stringify(signedManifest(keys.privateKey, '1.5.0', bundle));
    const wrong = Buffer.from(bundle);
    wrong[1000] = (wrong[1000]! + 1) % 256;

    await expect(sut.publish({ manifestText: manifest, bundle: new Blob([wrong]) })).rejects.toMatchObject({
      code: 'ARTIFACT_HASH_MISMATCH',
    });
    await expect(
      sut.publish({ manifestText: manifest, bundle: new Blob([bundle.subarray(1)]) }),
    ).rejects.toMatchObject({ code: 'ARTIFACT_SIZE_MISMATCH' });
    expect(sut.all.map((r) => [r.version, r.status])).toEqual([['1.5.0', 'awaiting-artifact']]);

    const release = await sut.publish({ manifestText: manifest, bundle: new Blob([bundle]) });
    expect(release.status).toBe('ready');
    expect(releases.size).toBe(1);
  });

  it('refuses a version that exists and is ready', async () => {
    const sut = useReleasesStore();
    const manifest = JSON.stringify(signedManifest(keys.privateKey, '1.5.0', bundle));
    await sut.publish({ manifestText: manifest, bundle: new Blob([bundle]) });
    await expect(sut.publish({ manifestText: manifest, bundle: new Blob([bundle]) })).rejects.toMatchObject({
      code: 'RELEASE_EXISTS',
      statusCode: 409,
    });
  });

  it('lists newest first and deletes a release only when no rollout uses it', async () => {
    const sut = useReleasesStore();
    const first = await sut.publish({
      manifestText: JSON.stringify(signedManifest(keys.privateKey, '1.5.0', bundle)),
      bundle: new Blob([bundle]),
    });
    await sut.create(
      JSON.parse(JSON.stringify(signedManifest(keys.privateKey, '1.6.0', bundle))) as Parameters<
        typeof sut.create
      >[0],
    );
    setActivePinia(createPinia());
    const fresh = useReleasesStore();
    await fresh.fetchAll();
    expect(fresh.all.map((r) => r.version)).toEqual(['1.6.0', '1.5.0']);
    expect(fresh.ready.map((r) => r.version)).toEqual(['1.5.0']);

    inUse.add(first.id);
    await expect(fresh.remove(first.id)).rejects.toMatchObject({ code: 'RELEASE_IN_USE', statusCode: 409 });
    expect(fresh.get(first.id)).toBeDefined();
    inUse.clear();
    await fresh.remove(first.id);
    expect(fresh.all.map((r) => r.version)).toEqual(['1.6.0']);
  });
});
