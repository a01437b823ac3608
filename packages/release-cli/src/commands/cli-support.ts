import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { keyIdOf, OtaError, parseDuration, publicKeyOfPrivate } from '@agentbox/ota';

/** What every command shares: argument checks, the errors they end with, and the files they read and write. */

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  now?: () => number;
}

/** The flags a command takes, each a string or a boolean, a string flag maybe repeated. */
export type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** The values of a command's flags; anything else on the command line (an unknown flag, an argument) is refused. */
export function parseFlags<const Options extends FlagOptions>(
  argv: string[],
  options: Options,
): ReturnType<typeof parseArgs<{ args: string[]; options: Options }>>['values'] {
  return parseArgs({ args: argv, options }).values;
}

export function usage(message: string, hint: string): OtaError {
  return new OtaError('USAGE', message, hint);
}

export function refused(reason: string, detail: string): OtaError {
  return new OtaError('INVALID_METADATA', `refused (${reason}): ${detail}`, 'the detail says what to change');
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw usage(`missing ${flag}`, 'run agentbox-release --help');
  return value;
}

/** The items of a repeatable, comma-separated flag; none is a usage error unless `flag` is ''. */
export function list(values: string[] | undefined, flag: string): string[] {
  const items = (values ?? [])
    .flatMap((value) => value.split(','))
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0 && flag) throw usage(`missing ${flag}`, 'run agentbox-release --help');
  return items;
}

export function threshold(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw usage(`threshold "${value}" is not a positive integer`, 'e.g. 2');
  return parsed;
}

/** The ISO instant an --expires duration (else `fallback`) after `now`. */
export function expiresAt(now: number, duration: string | undefined, fallback: string): string {
  return new Date(now + parseDuration(duration ?? fallback)).toISOString();
}

export async function readPrivateKey(file: string): Promise<string> {
  const text = await readText(file, 'private key');
  publicKeyOfPrivate(text);
  return text;
}

/** A public key from a .pub.json, a private .pem (its public half) or a base64 raw key. */
export async function readPublicKey(spec: string): Promise<string> {
  if (!existsSync(spec)) {
    keyIdOf(spec);
    return spec;
  }
  const text = await readText(spec, 'key');
  if (text.includes('PRIVATE KEY')) return publicKeyOfPrivate(text).publicKey;
  let json: { public?: unknown };
  try {
    json = JSON.parse(text) as { public?: unknown };
  } catch {
    throw new OtaError(
      'INVALID_KEY',
      `${spec} is neither a .pem nor a .pub.json key`,
      'use files from agentbox-release keygen',
    );
  }
  if (typeof json.public !== 'string') {
    throw new OtaError(
      'INVALID_KEY',
      `${spec} has no "public" key`,
      'use a .pub.json from agentbox-release keygen',
    );
  }
  keyIdOf(json.public);
  return json.public;
}

export async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw usage(
      `cannot read ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      'check the path',
    );
  }
}

export async function readJson<T = unknown>(file: string, what: string): Promise<T> {
  const text = await readText(file, what);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new OtaError(
      'INVALID_METADATA',
      `${file} is not JSON`,
      `pass the ${what} file written by agentbox-release`,
    );
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(resolve(file, '..'), { recursive: true });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}
