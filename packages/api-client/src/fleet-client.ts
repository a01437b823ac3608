import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './fleet-api.generated.js';

export type FleetClient = Client<paths>;

/** Where the fleet service is, and the bearer credential every call carries. */
export type FleetClientOptions = {
  /** e.g. https://fleet.example.com; '' for same-origin calls in the console. */
  baseUrl: string;
  /** Defaults to globalThis.fetch. */
  fetch?: (input: Request) => Promise<Response>;
} & (
  | {
      /** An API key (abk_...) or a login token, fixed for the client's life. */
      token: string;
      getToken?: never;
    }
  | {
      /** Asked before every call, so a sign-in or sign-out takes effect at once; null sends no credential. */
      getToken: () => string | null | undefined;
      token?: never;
    }
);

/** The typed client of the fleet service's HTTP API; works with the fetch of browsers and of Node. */
export function createFleetClient(options: FleetClientOptions): FleetClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const getToken = options.getToken ?? (() => options.token);
  client.use({
    onRequest({ request }) {
      const token = getToken();
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  });
  return client;
}

/** What a raw request body may be: bytes, a Blob or a stream. */
export type RawBody = NonNullable<RequestInit['body']>;

/** Request options that send a raw body; spread them into a call's options. */
export interface RawBodyOptions {
  body: never;
  bodySerializer: (body: unknown) => unknown;
  headers: Record<string, string>;
  duplex: 'half';
}

/**
 * Sends `body` as it is, as `application/octet-stream` (with its length when known), for an operation
 * whose body the API document leaves undescribed because the fleet service reads the raw request, such as
 * PUT /api/v1/releases/{id}/artifact.
 */
export function rawBody(body: RawBody, size?: number): RawBodyOptions {
  return {
    // Such an operation has no request body in the document, so openapi-fetch types `body` as never.
    body: body as never,
    bodySerializer: (raw) => raw,
    headers: {
      'content-type': 'application/octet-stream',
      ...(size === undefined ? {} : { 'content-length': String(size) }),
    },
    // Node's fetch sends a stream body only half-duplex, and only when told so.
    duplex: 'half',
  };
}
