#!/usr/bin/env node
// `npm start`: the whole platform on embedded defaults — the fleet service (SQLite file, embedded
// MQTT broker, console) and one device agent for this machine, enrolled on first start.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLogLine } from './log-format.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(process.env.AGENTBOX_DATA_DIR ?? join(root, 'data'));
const boxStateDir = resolve(process.env.AGENTBOX_STATE_DIR ?? join(dataDir, 'box-1'));
const httpPort = Number(process.env.AGENTBOX_HTTP_PORT ?? 8080);
const fleetUrl = `http://127.0.0.1:${httpPort}`;
const firstStart = !existsSync(join(dataDir, 'fleet.sqlite')) && !process.env.DATABASE_URL;
const adminPassword =
  process.env.AGENTBOX_ADMIN_PASSWORD ?? (firstStart ? randomBytes(12).toString('base64url') : undefined);

const children = new Set();
let stopping = false;

function run(name, script, env) {
  const child = spawn(process.execPath, [join(root, script)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C reaches only this script, which stops the children in order.
    detached: true,
  });
  children.add(child);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const formatted = formatLogLine(name, line);
        if (formatted) console.log(formatted);
      }
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the platform.`);
      void stop(code === 0 ? 1 : (code ?? 1));
    }
  });
  return child;
}

async function stop(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  // The agent goes first so it can say `offline` to a broker that is still there.
  for (const child of [...children].reverse()) {
    child.kill('SIGTERM');
    await new Promise((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done();
      }, 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
  }
  process.exit(exitCode);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function waitForReady(timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`${fleetUrl}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 300));
  }
  throw new Error(`the fleet service did not become ready at ${fleetUrl}/readyz`);
}

async function api(path, body, token) {
  const response = await fetch(`${fleetUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${path}: ${json.code ?? response.status} ${json.message ?? ''}`);
  return json;
}

async function main() {
  if (!existsSync(join(root, 'apps/fleet-service/dist/main.js'))) {
    console.error('The platform is not built yet: run `npm run build` (npm start does it for you).');
    process.exit(1);
  }
  run('fleet', 'apps/fleet-service/dist/main.js', {
    AGENTBOX_DATA_DIR: dataDir,
    AGENTBOX_HTTP_PORT: String(httpPort),
    ...(adminPassword ? { AGENTBOX_ADMIN_PASSWORD: adminPassword } : {}),
  });
  await waitForReady();

  let claimToken;
  if (!existsSync(join(boxStateDir, 'credentials.json'))) {
    if (!adminPassword) {
      console.log(
        `The local box (${boxStateDir}) is not enrolled yet. Open ${fleetUrl}, click "Add box", and run the command it shows.`,
      );
    } else {
      const login = await api('/api/v1/auth/login', { username: 'admin', password: adminPassword });
      const created = await api(
        '/api/v1/claim-tokens',
        { ttlHours: 1, maxUses: 1, note: 'local box enrolled by npm start' },
        login.accessToken,
      );
      claimToken = created.token;
    }
  }
  if (claimToken || existsSync(join(boxStateDir, 'credentials.json'))) {
    run('box-1', 'apps/device-agent/dist/main.js', {
      AGENTBOX_FLEET_URL: fleetUrl,
      AGENTBOX_STATE_DIR: boxStateDir,
      ...(claimToken ? { AGENTBOX_CLAIM_TOKEN: claimToken } : {}),
    });
  }

  const rule = '-'.repeat(64);
  console.log(`\n${rule}\n AgentBox is running.\n Console:  ${fleetUrl}`);
  if (firstStart && adminPassword && !process.env.AGENTBOX_ADMIN_PASSWORD) {
    console.log(` Login:    admin / ${adminPassword}   (shown once: keep it)`);
  } else {
    console.log(' Login:    admin / the password shown on the first start (or AGENTBOX_ADMIN_PASSWORD)');
  }
  console.log(` Data:     ${dataDir}\n Ctrl-C stops everything.\n${rule}\n`);
}

main().catch((error) => {
  console.error(`npm start failed: ${error.message}`);
  void stop(1);
});
