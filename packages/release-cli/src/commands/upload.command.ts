import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createFleetClient, rawBody, type ApiErrorBody, type FleetClient } from '@agentbox/api-client';
import type { SignedRelease } from '@agentbox/schemas';
import { OtaError } from '@agentbox/ota';
import { formatBytes, parseFlags, readJson, required, usage, type CliIo } from './cli-support.js';

/** `upload`: registers the signed manifest on the fleet service, then streams its bundle there. */
export async function uploadCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parseFlags(argv, {
    url: { type: 'string' },
    'api-key': { type: 'string' },
    token: { type: 'string' },
    manifest: { type: 'string' },
    bundle: { type: 'string' },
  });
  const baseUrl = required(values.url, '--url FLEET_URL').replace(/\/+$/, '');
  const token = uploadCredential(values['api-key'], values.token);
  const release = await readJson<SignedRelease>(required(values.manifest, '--manifest FILE'), 'manifest');
  const bundle = required(values.bundle, '--bundle FILE');
  const { size } = await stat(bundle);
  const fleet = createFleetClient({ baseUrl, token });

  const id = await registerRelease(fleet, release);
  io.out(`release ${release.signed.version} registered as ${id}; uploading ${formatBytes(size)}`);
  await uploadBundle(fleet, id, bundle, size);
  io.out(`release ${release.signed.version} is ready`);
}

/** POST /api/v1/releases; returns the release's id. */
async function registerRelease(fleet: FleetClient, release: SignedRelease): Promise<string> {
  const { data, error, response } = await fleet
    .POST('/api/v1/releases', { body: release })
    .catch((failure: unknown) => {
      // openapi-fetch parses a success answer as JSON: one that is not came from something else.
      if (failure instanceof SyntaxError) {
        throw new OtaError(
          'INVALID_METADATA',
          `the fleet service refused the manifest: its answer is not JSON (${failure.message})`,
          'check --url: it must be the fleet service',
        );
      }
      throw failure;
    });
  if (response.status === 201 && data?.id) return data.id;
  const { code, message } = apiErrorOf(error);
  const refusal = `HTTP ${response.status} ${code ?? ''} ${message ?? ''}`.trim();
  throwIfCredentialsRefused(response.status, refusal);
  throw new OtaError(
    'INVALID_METADATA',
    `the fleet service refused the manifest: ${refusal}`,
    response.status === 409
      ? 'that version exists: build a new version'
      : 'check the trusted root and the manifest',
  );
}

/** PUT /api/v1/releases/{id}/artifact with the bundle streamed from disk. */
async function uploadBundle(fleet: FleetClient, id: string, bundle: string, size: number): Promise<void> {
  const { error, response } = await fleet.PUT('/api/v1/releases/{id}/artifact', {
    params: { path: { id } },
    ...rawBody(Readable.toWeb(createReadStream(bundle)) as ReadableStream<Uint8Array>, size),
    // Success is all that counts: the release in the answer is not read.
    parseAs: 'stream',
  });
  if (response.ok) return;
  const { code, message } = apiErrorOf(error);
  throwIfCredentialsRefused(response.status, `HTTP ${response.status} ${code ?? ''} ${message ?? ''}`.trim());
  throw new OtaError(
    'INVALID_METADATA',
    `the fleet service refused the bundle: HTTP ${response.status} ${message ?? ''}`.trim(),
    'upload the bundle built with this manifest, unchanged',
  );
}

/** The ApiError body of a refusal; a proxy's error page or an empty body has none. */
function apiErrorOf(error: unknown): Partial<ApiErrorBody> {
  return typeof error === 'object' && error !== null ? error : {};
}

function throwIfCredentialsRefused(status: number, refusal: string): void {
  if (status !== 401 && status !== 403) return;
  throw new OtaError(
    'UPLOAD_REFUSED',
    `the fleet service refused the credentials: ${refusal}`,
    status === 401
      ? 'the key or token is unknown, revoked or expired: create a new admin API key in the console (API keys)'
      : 'publishing releases needs the admin role: use an admin API key',
  );
}

/** The bearer credential of an upload: an API key, else an admin's login token, from flags or the environment. */
function uploadCredential(apiKey: string | undefined, token: string | undefined): string {
  if (apiKey !== undefined && token !== undefined) {
    throw usage('both --api-key and --token given', 'pass one of them');
  }
  const key = apiKey ?? (token === undefined ? process.env.AGENTBOX_API_KEY : undefined);
  if (key !== undefined && key !== '') {
    if (!key.startsWith('abk_')) {
      throw usage(
        `${apiKey !== undefined ? '--api-key' : 'AGENTBOX_API_KEY'} is not an API key (abk_...)`,
        'create one in the console (API keys) or pass a login token with --token',
      );
    }
    return key;
  }
  const login = token ?? process.env.AGENTBOX_API_TOKEN;
  if (!login) {
    throw usage(
      'no credentials',
      'pass --api-key (or set AGENTBOX_API_KEY) with an admin API key from the console (API keys)',
    );
  }
  return login;
}
