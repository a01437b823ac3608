import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createFleetClient, rawBody } from './fleet-client.js';

/** A fetch that records each request and answers with `answer`. */
function recordingFetch(answer: () => Response = () => Response.json({ username: 'ops', role: 'admin' })) {
  const requests: Request[] = [];
  const fetch = (request: Request) => {
    requests.push(request);
    return Promise.resolve(answer());
  };
  return { requests, fetch };
}

describe('createFleetClient', () => {
  it('sends a fixed token as the bearer of every call, below the base URL', async () => {
    const { requests, fetch } = recordingFetch();
    const sut = createFleetClient({ baseUrl: 'http://fleet.test/', token: 'abk_key', fetch });

    const { data } = await sut.GET('/api/v1/auth/me');
    await sut.GET('/api/v1/auth/me');

    expect(data).toEqual({ username: 'ops', role: 'admin' });
    expect(requests.map((request) => [request.url, request.headers.get('authorization')])).toEqual([
      ['http://fleet.test/api/v1/auth/me', 'Bearer abk_key'],
      ['http://fleet.test/api/v1/auth/me', 'Bearer abk_key'],
    ]);
  });

  it('asks getToken before every call and sends no credential while it has none', async () => {
    const { requests, fetch } = recordingFetch();
    let token: string | null = null;
    const sut = createFleetClient({ baseUrl: 'http://fleet.test', getToken: () => token, fetch });

    await sut.GET('/api/v1/auth/me');
    token = 'jwt-1';
    await sut.GET('/api/v1/auth/me');

    expect(requests.map((request) => request.headers.get('authorization'))).toEqual([null, 'Bearer jwt-1']);
  });

  it('returns an error answer as its ApiError body', async () => {
    const refusal = { statusCode: 403, code: 'FORBIDDEN', message: 'needs admin' };
    const { fetch } = recordingFetch(() => Response.json(refusal, { status: 403 }));
    const sut = createFleetClient({ baseUrl: 'http://fleet.test', token: 't', fetch });

    const { data, error, response } = await sut.GET('/api/v1/auth/me');

    expect(data).toBeUndefined();
    expect(error).toEqual(refusal);
    expect(response.status).toBe(403);
  });
});

describe('rawBody', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('streams a body to a path with parameters, as octet-stream with its length, through Node fetch', async () => {
    const seen: { request: IncomingMessage; body: Buffer }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({ request, body: Buffer.concat(chunks) });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ id: 'rel 1', status: 'ready' }));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    close = () => server.close();
    const bytes = Buffer.from('a bundle, '.repeat(10_000));
    const sut = createFleetClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: 'abk_key',
    });

    const stream = Readable.toWeb(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]));
    const { response } = await sut.PUT('/api/v1/releases/{id}/artifact', {
      params: { path: { id: 'rel 1' } },
      ...rawBody(stream as ReadableStream<Uint8Array>, bytes.length),
    });

    expect(response.status).toBe(200);
    const [put] = seen;
    expect(put?.request.method).toBe('PUT');
    expect(put?.request.url).toBe('/api/v1/releases/rel%201/artifact');
    expect(put?.request.headers).toMatchObject({
      authorization: 'Bearer abk_key',
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.length),
    });
    expect(put?.body.equals(bytes)).toBe(true);
  });
});
