import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EXAMPLE_RELEASE_VERSION,
  firstReleaseCommands,
  releaseBuildCommand,
  releaseUploadCommand,
} from '../../apps/console/src/utils/release-commands.js';
import { Platform } from '../support/platform.js';
import { repoRoot } from '../support/processes.js';

const run = promisify(execFile);

/**
 * The release commands the console shows (Releases page, upload dialog, API keys), pasted as shown into a
 * shell started in a directory of the checkout, the way a release manager would.
 */
describe('release commands the console shows', () => {
  // Under the checkout's ignored /tmp, so `npm run` finds the repository and nothing lands in git.
  const work = join(repoRoot, 'tmp', `release-commands-${randomBytes(4).toString('hex')}`);
  const version = EXAMPLE_RELEASE_VERSION;
  let platform: Platform | undefined;

  const shell = async (script: string, env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run('sh', ['-c', script], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? work, ...env },
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout + stderr;
    } catch (error) {
      const failed = error as Error & { stdout?: string; stderr?: string };
      throw new Error(`${script}\nfailed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`, {
        cause: error,
      });
    }
  };

  afterAll(async () => {
    await platform?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('makes the keys and the first release, for this machine, where the upload looks for it', async () => {
    mkdirSync(work, { recursive: true });
    await shell(firstReleaseCommands());
    for (const file of [
      'keys/root.json',
      `releases/agentbox-device-agent-${version}.tar.gz`,
      `releases/agentbox-device-agent-${version}.manifest.json`,
    ])
      expect(existsSync(join(work, file)), file).toBe(true);
  }, 300_000);

  it("builds a later release with the upload dialog's command", async () => {
    await shell(releaseBuildCommand('1.5.1'));
    expect(existsSync(join(work, 'releases/agentbox-device-agent-1.5.1.manifest.json'))).toBe(true);
  }, 300_000);

  it('uploads it with an admin API key, as the API keys page shows', async () => {
    platform = new Platform({ AGENTBOX_OTA_ROOT_FILE: join(work, 'keys/root.json') });
    await platform.start();
    const key = await platform.api.request<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'release upload',
      role: 'admin',
    });
    expect(key.status).toBe(201);
    const [exportLine, ...upload] = releaseUploadCommand(platform.fleet.url).split('\n');
    expect(exportLine).toBe('export AGENTBOX_API_KEY=abk_…');
    await shell(upload.join('\n'), { AGENTBOX_API_KEY: key.body.secret });
    const releases = await platform.api.request<Array<{ version: string; status: string }>>(
      'GET',
      '/api/v1/releases',
    );
    expect(releases.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ version, status: 'ready' })]),
    );
  }, 300_000);
});
