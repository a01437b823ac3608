#!/usr/bin/env node
// `npm run agent`: one more box from this checkout (set AGENTBOX_FLEET_URL, AGENTBOX_CLAIM_TOKEN, AGENTBOX_STATE_DIR).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'apps/device-agent/dist/main.js');
if (!existsSync(main)) {
  const build = spawnSync('npx', ['turbo', 'run', 'build', '--filter=@agentbox/device-agent...'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const child = spawn(process.execPath, [main], { stdio: 'inherit', env: process.env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
