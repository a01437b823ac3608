#!/usr/bin/env node
import { runReleaseCli } from './release-cli.js';

// `npm run release` runs this in the repository root, whatever directory it was started in: relative
// paths on the command line mean that directory (npm passes it as INIT_CWD), as people expect.
if (process.env.npm_lifecycle_event === 'release' && process.env.INIT_CWD)
  process.chdir(process.env.INIT_CWD);

runReleaseCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`agentbox-release: fatal: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 70;
  },
);
