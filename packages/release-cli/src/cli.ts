#!/usr/bin/env node
import { runReleaseCli } from './release-cli.js';

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
