import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '@agentbox/ota';
import { parseFlags, required, usage, type CliIo } from './cli-support.js';

/** `keygen --out DIR [--name release|root]`: a new Ed25519 key pair, never over an existing one. */
export async function keygenCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parseFlags(argv, { out: { type: 'string' }, name: { type: 'string' } });
  const dir = required(values.out, '--out DIR');
  const name = values.name ?? 'release';
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw usage(`--name "${name}" is not a plain file name`, 'e.g. --name root');
  const pem = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.json`);
  for (const file of [pem, pub]) {
    if (existsSync(file))
      throw usage(`${file} exists`, 'choose another --name or --out; keys are never overwritten');
  }
  const pair = generateKeyPair();
  await mkdir(dir, { recursive: true });
  await writeFile(pem, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await chmod(pem, 0o600);
  await writeFile(
    pub,
    `${JSON.stringify({ keyid: pair.keyid, type: 'ed25519', public: pair.publicKey }, null, 2)}\n`,
    {
      flag: 'wx',
    },
  );
  io.out(`key ${pair.keyid}\n  private: ${pem} (keep it off the fleet service)\n  public:  ${pub}`);
}
