import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

import { PinoLoggerService } from '@agentbox/logging';
import { ApiErrorSchema, type LiveEvent } from '@agentbox/schemas';
import { dropSchema, postgresReachable, randomSchemaName, TEST_POSTGRES_URL } from '@agentbox/test-support';
import { createApp, type RunningApp } from '../../src/app.js';
import { AppConfig } from '../../src/config/app-config.js';
import { LiveEventsService } from '../../src/modules/live/live-events.service.js';
import { lateBound, setUp } from './late-bound.js';

export const ADMIN_PASSWORD = 'e2e-admin-password';

const pgReachable = await postgresReachable();

export interface Driver {
  name: 'sqlite' | 'postgres';
  /** True when the database behind this driver is not available here. */
  skip: boolean;
  setup(schemaPrefix: string): { env: Record<string, string>; teardown(): Promise<void> };
}

export const drivers: Driver[] = [
  { name: 'sqlite', skip: false, setup: () => ({ env: {}, teardown: () => Promise.resolve() }) },
  {
    name: 'postgres',
    skip: !pgReachable,
    setup: (schemaPrefix) => {
      // A schema of our own, so runs never collide with each other or with other users of the database.
      const schema = randomSchemaName(schemaPrefix);
      return {
        env: { DATABASE_URL: TEST_POSTGRES_URL, AGENTBOX_DB_SCHEMA: schema },
        teardown: () => dropSchema(schema),
      };
    },
  },
];

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is: a string defaults to JSON, a buffer to octet-stream, unless `headers` says otherwise. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface CallResponse {
  status: number;
  /* eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field */
  body: any;
  text: string;
  bytes: Buffer;
  headers: Headers;
}

export type Call = (method: string, path: string, options?: CallOptions) => Promise<CallResponse>;

/** One HTTP request against `base`; JSON bodies are parsed, anything else comes back as text. */
export async function callApi(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.raw !== undefined) {
    headers['content-type'] ??=
      typeof options.raw === 'string' ? 'application/json' : 'application/octet-stream';
    body = typeof options.raw === 'string' ? options.raw : new Uint8Array(options.raw);
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  const json = (response.headers.get('content-type') ?? '').includes('json') && text.length > 0;
  return {
    status: response.status,
    body: json ? JSON.parse(text) : text,
    text,
    bytes,
    headers: response.headers,
  };
}

/** Asserts an error response: its status and stable code, in the common `{statusCode, code, message}` body. */
export async function expectError(
  promise: Promise<CallResponse>,
  status: number,
  code: string,
): Promise<CallResponse> {
  const response = await promise;
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(ApiErrorSchema.parse(response.body).statusCode).toBe(status);
  return response;
}

/** Logs in and returns the access token, failing the test when the service refuses. */
export async function loginWith(call: Call, username: string, password: string): Promise<string> {
  const response = await call('POST', '/api/v1/auth/login', { body: { username, password } });
  expect(response.status).toBe(200);
  return response.body.accessToken as string;
}

export interface RoleTokens {
  admin: string;
  operator: string;
  viewer: string;
}

/** Logs in as admin, creates `operator1` and `viewer1` (failing the test unless both are created) and logs them in. */
export async function signInEveryRole(app: Pick<BootedApp, 'call' | 'login'>): Promise<RoleTokens> {
  const admin = await app.login('admin', ADMIN_PASSWORD);
  for (const role of ['operator', 'viewer'] as const) {
    const created = await app.call('POST', '/api/v1/users', {
      token: admin,
      body: { username: `${role}1`, password: `${role}1-password`, role },
    });
    expect(created.status).toBe(201);
  }
  return {
    admin,
    operator: await app.login('operator1', 'operator1-password'),
    viewer: await app.login('viewer1', 'viewer1-password'),
  };
}

/** Appends every live event the app publishes from now on to `into`. */
export function recordLiveEvents(app: Pick<BootedApp, 'running'>, into: LiveEvent[]): void {
  app.running.app
    .get(LiveEventsService)
    .stream()
    .subscribe((event) => into.push(event));
}

export interface BootOptions {
  /** Prefix of the temp data dir. */
  dataDirPrefix: string;
  /** Prefix of the PostgreSQL schema (ignored on SQLite). */
  schemaPrefix: string;
  /** Extra environment, computed once the data dir exists; it overrides the defaults. */
  env?: (dataDir: string) => Record<string, string> | Promise<Record<string, string>>;
}

export interface BootedApp {
  running: RunningApp;
  base: string;
  dataDir: string;
  call: Call;
  login(username: string, password: string): Promise<string>;
  /** Stops the app, drops the database and removes the data dir. */
  close(): Promise<void>;
}

/** Boots the whole service on free ports, over a fresh data dir and the driver's database. */
export async function bootApp(driver: Driver, options: BootOptions): Promise<BootedApp> {
  const dataDir = mkdtempSync(join(tmpdir(), options.dataDirPrefix));
  const db = driver.setup(options.schemaPrefix);
  let running: RunningApp | undefined;
  const close = async () => {
    await running?.close();
    await db.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const config = AppConfig.fromEnv({
      AGENTBOX_DATA_DIR: dataDir,
      AGENTBOX_HTTP_HOST: '127.0.0.1',
      AGENTBOX_HTTP_PORT: '0',
      AGENTBOX_MQTT_HOST: '127.0.0.1',
      AGENTBOX_MQTT_PORT: '0',
      AGENTBOX_ADMIN_PASSWORD: ADMIN_PASSWORD,
      AGENTBOX_CONSOLE_DIR: join(dataDir, 'no-console-here'),
      ...(await options.env?.(dataDir)),
      ...db.env,
    });
    running = await createApp(config, { logger: new PinoLoggerService('fleet-service', 'silent') });
  } catch (error) {
    await close();
    throw error;
  }
  const base = running.url;
  const call: Call = (method, path, callOptions) => callApi(base, method, path, callOptions);
  return {
    running,
    base,
    dataDir,
    call,
    login: (username, password) => loginWith(call, username, password),
    close,
  };
}

/** A booted app as a describe block sees it: `useFleetApp` closes it. */
export interface FleetApp extends Omit<BootedApp, 'close'> {
  /** The tokens `signIn` asked for, once signed in. */
  readonly tokens: RoleTokens;
}

export interface FleetAppOptions extends Pick<BootOptions, 'env'> {
  /** Right after booting, sign in as admin, or as every role (signInEveryRole), for `tokens`. */
  signIn?: 'admin' | 'every role';
}

/**
 * Boots the service once for the enclosing describe block (beforeAll; nothing boots for a skipped
 * driver), its data dir and PostgreSQL schema named after `name`, and closes it in afterAll, after the block's own afterAll hooks. The returned app reads
 * through to the booted one, so hooks and tests use it as they would `bootApp`'s result.
 */
export function useFleetApp(driver: Driver, name: string, options: FleetAppOptions = {}): FleetApp {
  let booted: BootedApp | undefined;
  let signedIn: Partial<RoleTokens> = {};
  beforeAll(async () => {
    if (driver.skip) return;
    booted = await bootApp(driver, {
      dataDirPrefix: `agentbox-${name}-`,
      schemaPrefix: name.replaceAll('-', '_'),
      ...(options.env ? { env: options.env } : {}),
    });
    if (options.signIn === 'admin') signedIn = { admin: await booted.login('admin', ADMIN_PASSWORD) };
    if (options.signIn === 'every role') signedIn = await signInEveryRole(booted);
  });
  afterAll(async () => {
    await booted?.close();
  });
  const current = () => setUp(booted, 'The app');
  return lateBound<FleetApp, 'call' | 'login' | 'tokens'>(current, {
    call: (method, path, callOptions) => current().call(method, path, callOptions),
    login: (username, password) => current().login(username, password),
    tokens: lateBound<RoleTokens>(() => signedIn as RoleTokens),
  });
}
