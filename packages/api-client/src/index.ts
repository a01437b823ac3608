export type { components, operations, paths } from './fleet-api.generated.js';
export type { Client, Middleware } from 'openapi-fetch';
export {
  createFleetClient,
  rawBody,
  type FleetClient,
  type FleetClientOptions,
  type RawBody,
  type RawBodyOptions,
} from './fleet-client.js';
export type { ApiErrorBody, JsonOf, OkBody, RequestBody } from './body-types.js';
