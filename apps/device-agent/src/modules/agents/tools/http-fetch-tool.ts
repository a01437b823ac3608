import type { ToolGrant } from '@agentbox/schemas';

export type HttpFetchGrant = Extract<ToolGrant, { tool: 'http.fetch' }>;

export interface HttpFetchInput {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpFetchOutput {
  status: number;
  url: string;
  contentType?: string;
  body: string;
  /** True when the body was cut at the grant's maxBytes or at the text limit. */
  truncated: boolean;
}

export class HttpFetchRefused extends Error {
  override readonly name = 'HttpFetchRefused';
}

const MAX_REDIRECTS = 5;
/** Headers the agent may not set: they belong to the connection or could smuggle credentials. */
const BLOCKED_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'proxy-authorization',
  'te',
  'trailer',
]);

/**
 * Whether `url` is allowed by one of the grant's host patterns. `api.example.com` matches that host
 * only; `*.example.com` matches its subdomains (not example.com itself). A pattern without a port
 * allows only the scheme's default port; `host:8080` allows that port only.
 */
export function isHostAllowed(url: URL, allowHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port; // '' for the scheme's default port
  return allowHosts.some((pattern) => {
    const [name = '', patternPort = ''] = pattern.toLowerCase().split(':');
    if (patternPort !== port) return false;
    if (name.startsWith('*.')) {
      const suffix = name.slice(1);
      return host.endsWith(suffix) && host.length > suffix.length;
    }
    return host === name;
  });
}

/**
 * GET or POST to an allow-listed host, following redirects only to allowed hosts, within the grant's
 * time (whole exchange, redirects included) and size limits. The body is read as text up to maxBytes.
 */
export async function httpFetch(
  input: HttpFetchInput,
  grant: HttpFetchGrant,
  maxTextChars: number,
): Promise<HttpFetchOutput> {
  let url = parseUrl(input.url);
  let method = input.method ?? 'GET';
  let body = method === 'POST' ? input.body : undefined;
  const headers = new Headers();
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (BLOCKED_HEADERS.has(name.toLowerCase()))
      throw new HttpFetchRefused(`the header ${name} may not be set`);
    headers.set(name, value);
  }
  const signal = AbortSignal.timeout(grant.timeoutMs);

  for (let hop = 0; ; hop++) {
    if (!isHostAllowed(url, grant.allowHosts)) {
      throw new HttpFetchRefused(
        `${hop === 0 ? '' : 'redirect to '}${url.host} is not an allowed host (allowed: ${grant.allowHosts.join(', ')})`,
      );
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, redirect: 'manual', signal });
    } catch (error) {
      if (signal.aborted)
        throw new Error(`no complete answer from ${url.host} within ${grant.timeoutMs} ms`, { cause: error });
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new Error(`request to ${url.host} failed: ${cause ?? (error as Error).message}`, {
        cause: error,
      });
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      url = parseUrl(new URL(location, url).toString());
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
      }
      continue;
    }
    const { text, truncated } = await readCapped(response, grant.maxBytes, signal, url);
    const cut = text.length > maxTextChars;
    return {
      status: response.status,
      url: url.toString(),
      ...(response.headers.get('content-type') ? { contentType: response.headers.get('content-type')! } : {}),
      body: cut ? text.slice(0, maxTextChars) : text,
      truncated: truncated || cut,
    };
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HttpFetchRefused(`"${raw.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HttpFetchRefused(`only http and https URLs may be fetched, not ${url.protocol}`);
  }
  if (url.username || url.password) throw new HttpFetchRefused('URLs with credentials are not allowed');
  return url;
}

async function readCapped(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
  url: URL,
): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - size;
      if (value.byteLength >= room) {
        chunks.push(value.subarray(0, room));
        size += room;
        truncated = value.byteLength > room || !(await isAtEnd(reader));
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch (error) {
    if (signal.aborted)
      throw new Error(`no complete answer from ${url.host} within the time limit`, { cause: error });
    throw error;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated };
}

async function isAtEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return true;
    if (value.byteLength > 0) return false;
  }
}
