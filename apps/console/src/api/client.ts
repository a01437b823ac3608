import { createFleetClient, type FleetClient, type Middleware } from '@agentbox/api-client';

export type ApiClient = FleetClient;

/** Registered by the app (main.ts): the client knows nothing about stores or the router. */
export interface AuthHooks {
  getToken: () => string | null;
  /** Called when an authenticated call comes back 401: the app logs out and goes to /login. */
  onUnauthorized: () => void;
}

let hooks: AuthHooks = { getToken: () => null, onUnauthorized: () => undefined };

export function configureAuth(next: AuthHooks): void {
  hooks = next;
}

const LOGIN_PATH = '/api/v1/auth/login';

const unauthorizedMiddleware: Middleware = {
  onResponse({ request, response }) {
    // A 401 from the login call means wrong credentials, which the login form shows itself.
    if (response.status === 401 && !new URL(request.url).pathname.endsWith(LOGIN_PATH))
      hooks.onUnauthorized();
    return response;
  },
};

export interface ApiClientOptions {
  baseUrl?: string;
  fetch?: (input: Request) => Promise<Response>;
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const baseUrl = options.baseUrl ?? (typeof window === 'undefined' ? '' : window.location.origin);
  const client = createFleetClient({
    baseUrl,
    // Asked per call: the hooks are registered (and the token changes) after the client exists.
    getToken: () => hooks.getToken(),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use(unauthorizedMiddleware);
  return client;
}

let current: ApiClient | null = null;

/** The client every store uses; created on first use so tests can swap it first. */
export function api(): ApiClient {
  current ??= createApiClient();
  return current;
}

export function setApiClient(client: ApiClient): void {
  current = client;
}
