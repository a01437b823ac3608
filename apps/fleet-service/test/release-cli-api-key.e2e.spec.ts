import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRootMetadata, generateKeyPair, signEnvelope } from '@agentbox/ota';
import { ApiKeyCreatedDtoSchema, AuditEntryDtoSchema } from '@agentbox/schemas';
import { ADMIN_PASSWORD, drivers, useFleetApp } from './support/fleet-app.js';
import { envelope, releaseManifest } from './support/ota-signing.js';

const DAY_MS = 86_400_000;
/** The built release CLI, run as a release manager runs it (turbo builds @agentbox/ota before these tests). */
const RELEASE_CLI = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../packages/release-cli/dist/cli.js',
);

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function releaseCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const { AGENTBOX_API_KEY: _key, AGENTBOX_API_TOKEN: _token, ...inherited } = process.env;
  const child = spawn(process.execPath, [RELEASE_CLI, ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe.each(drivers)(
  'agentbox-release upload with an API key against the fleet service ($name)',
  (driver) => {
    const skip = driver.skip;
    let admin: string;
    const rootKey = generateKeyPair();
    const releaseKey = generateKeyPair();

    const app = useFleetApp(driver, 'release-cli', {
      env: (dir) => {
        const root = createRootMetadata({
          version: 1,
          expires: new Date(Date.now() + 365 * DAY_MS).toISOString(),
          rootKeys: [rootKey.publicKey],
          releaseKeys: [releaseKey.publicKey],
        });
        const rootFile = join(dir, 'root.json');
        writeFileSync(rootFile, JSON.stringify(signEnvelope(root, [rootKey.privateKeyPem])));
        return { AGENTBOX_OTA_ROOT_FILE: rootFile, AGENTBOX_ARTIFACTS_DIR: join(dir, 'bundles') };
      },
    });

    /** A signed manifest and its bundle on disk, as `agentbox-release build` leaves them. */
    function release(version: string): string[] {
      const bundle = randomBytes(200_000 + Math.floor(Math.random() * 1000));
      const bundleFile = join(app.dataDir, `agentbox-device-agent-${version}.tar.gz`);
      const manifestFile = join(app.dataDir, `agentbox-device-agent-${version}.manifest.json`);
      writeFileSync(bundleFile, bundle);
      const manifest = releaseManifest(version, bundle, { notes: '' });
      writeFileSync(manifestFile, JSON.stringify(envelope(manifest, [releaseKey])));
      return ['--manifest', manifestFile, '--bundle', bundleFile];
    }

    async function createKey(name: string, role: string) {
      const response = await app.call('POST', '/api/v1/api-keys', { token: admin, body: { name, role } });
      expect(response.status).toBe(201);
      return ApiKeyCreatedDtoSchema.parse(response.body);
    }

    async function releaseVersions(): Promise<Array<{ version: string; status: string }>> {
      const response = await app.call('GET', '/api/v1/releases', { token: admin });
      expect(response.status).toBe(200);
      return (response.body as Array<{ version: string; status: string }>).map(({ version, status }) => ({
        version,
        status,
      }));
    }

    beforeAll(async () => {
      if (skip) return;
      expect(existsSync(RELEASE_CLI), `${RELEASE_CLI} missing: build @agentbox/ota first`).toBe(true);
      admin = await app.login('admin', ADMIN_PASSWORD);
    });

    it.skipIf(skip)('refuses a viewer key with a message that says an admin key is needed', async () => {
      const viewer = await createKey('read only', 'viewer');
      const run = await releaseCli(['upload', '--url', app.base, ...release('2.0.0')], {
        AGENTBOX_API_KEY: viewer.secret,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'refused the credentials: HTTP 403 FORBIDDEN This action needs the admin role; this API key has the viewer role',
      );
      expect(run.stderr).toContain('publishing releases needs the admin role: use an admin API key');
      expect(run.stderr).not.toContain(viewer.secret);
      expect(await releaseVersions()).toEqual([]);
    });

    it.skipIf(skip)('uploads with an admin key; the release is ready and audited under the key', async () => {
      const key = await createKey('release CI', 'admin');
      const run = await releaseCli([
        'upload',
        '--url',
        `${app.base}/`,
        '--api-key',
        key.secret,
        ...release('2.1.0'),
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('release 2.1.0 is ready');
      expect(await releaseVersions()).toEqual([{ version: '2.1.0', status: 'ready' }]);

      const audit = await app.call('GET', '/api/v1/audit?limit=100', { token: admin });
      const entries = AuditEntryDtoSchema.array().parse(audit.body);
      expect(entries.find((entry) => entry.action === 'release.created')?.actor).toBe(key.prefix);
      const uses = entries.filter((entry) => entry.actorId === key.id);
      expect(uses.map((entry) => [entry.action, entry.actorType, entry.status, entry.allowed])).toEqual([
        ['release.artifact-uploaded', 'api-key', 200, true],
        ['release.created', 'api-key', 201, true],
      ]);

      // Revoked, the key no longer uploads, and the CLI says what to do.
      expect((await app.call('POST', `/api/v1/api-keys/${key.id}/revoke`, { token: admin })).status).toBe(
        200,
      );
      const revoked = await releaseCli(['upload', '--url', app.base, ...release('2.2.0')], {
        AGENTBOX_API_KEY: key.secret,
      });
      expect(revoked.code).toBe(1);
      expect(revoked.stderr).toContain('HTTP 401 API_KEY_REVOKED');
      expect(revoked.stderr).toContain('create a new admin API key');
      expect((await releaseVersions()).map((item) => item.version)).toEqual(['2.1.0']);
    });
  },
);
