import { OtaError } from '@agentbox/ota';
import { buildCommand } from './commands/build.command.js';
import { usage, type CliIo } from './commands/cli-support.js';
import { keygenCommand } from './commands/keygen.command.js';
import { rootInitCommand, rootRotateCommand } from './commands/root.command.js';
import { uploadCommand } from './commands/upload.command.js';
import { verifyCommand } from './commands/verify.command.js';

export type { CliIo } from './commands/cli-support.js';

export const USAGE = `agentbox-release: build and sign releases of the AgentBox device agent

  keygen --out DIR [--name release|root]
      Writes DIR/<name>.pem (private, mode 0600: keep it offline) and DIR/<name>.pub.json.
  root init --root-key ROOT.pem... --release-key KEY... [--root-threshold N] [--release-threshold N]
            [--expires 365d] --out root.json
      Root metadata version 1, signed by the root keys. Boxes pin it at install.
  root rotate --root root.json --sign KEY.pem... [--root-key KEY...] [--release-key KEY...]
              [--root-threshold N] [--release-threshold N] [--expires 365d] --out root-v2.json
      The next root version (keys not given stay as they are), signed by a threshold of the current
      root keys and of the new ones.
  build --version X [--channel stable|beta|dev] --key RELEASE.pem [--arch x64,arm64] [--min-version V]
        [--notes FILE] [--expires 180d] [--rollback-target] [--root root.json] --out DIR
      Builds the device agent bundle and its signed manifest into DIR (build the device agent first).
  verify --root root.json [--roots r2.json,...] --manifest M [--bundle B] [--current-version V] [--arch A]
      Checks the root chain, the manifest signatures and expiry, and the bundle's size and sha256.
  upload --url FLEET_URL (--api-key abk_... | --token TOKEN) --manifest M --bundle B
      Registers the release on the fleet service and uploads its bundle. Authenticate with an admin
      API key (console: API keys; or env AGENTBOX_API_KEY), or an admin's login token (AGENTBOX_API_TOKEN).

KEY is a .pem private key, a .pub.json public key or a base64 raw Ed25519 public key; repeat the flag
or separate with commas.`;

/** Runs one command; returns the exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runReleaseCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await dispatch([...argv], io);
    return 0;
  } catch (error) {
    if (error instanceof OtaError) {
      io.err(`agentbox-release: ${error.message}`);
      return error.code === 'USAGE' ? 2 : 1;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`agentbox-release: ${error.message} (run agentbox-release --help)`);
      return 2;
    }
    throw error;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<void> {
  const [command, ...rest] = argv;
  const now = io.now ?? Date.now;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(USAGE);
      return;
    case 'keygen':
      return keygenCommand(rest, io);
    case 'root': {
      const [sub, ...args] = rest;
      if (sub === 'init') return rootInitCommand(args, io, now());
      if (sub === 'rotate') return rootRotateCommand(args, io, now());
      throw usage(`unknown root command "${sub ?? ''}"`, 'use root init or root rotate');
    }
    case 'build':
      return buildCommand(rest, io, now());
    case 'verify':
      return verifyCommand(rest, io, now());
    case 'upload':
      return uploadCommand(rest, io);
    default:
      throw usage(`unknown command "${command}"`, 'run agentbox-release --help');
  }
}
