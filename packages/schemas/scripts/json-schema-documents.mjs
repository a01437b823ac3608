// The JSON Schema documents published under docs/protocol/, shared by export-json-schema.mjs (which feeds it
// the built package) and src/json-schema.spec.ts (which feeds it the sources and checks the committed files).
import { z } from 'zod';

/**
 * `io: 'input'` describes what a receiver's validator accepts: fields with defaults are optional, and unknown
 * fields are allowed (the zod objects strip them rather than refuse them).
 */
export const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', io: 'input' };

/** Where a payload travels: an MQTT topic below one device. */
const mqtt = (channel) => `MQTT agentbox/v1/devices/{deviceId}/${channel}`;
/** Where a payload travels: the body of an HTTP request or response. */
const requestBody = (route) => `HTTP ${route} request body`;
const responseBody = (route) => `HTTP ${route} response body`;

/** File name (without `.schema.json`), exported schema name, and a title naming where the payload travels. */
export const JSON_SCHEMA_DOCUMENTS = [
  ['status', 'StatusMessageSchema', mqtt('up/status')],
  ['birth', 'BirthMessageSchema', mqtt('up/birth')],
  ['telemetry', 'TelemetryMessageSchema', mqtt('up/telemetry')],
  ['reported-state', 'ReportedStateMessageSchema', mqtt('up/state')],
  ['events', 'EventsMessageSchema', mqtt('up/events')],
  ['command-result', 'CommandResultMessageSchema', mqtt('up/results/{commandId}')],
  ['runs', 'RunsMessageSchema', mqtt('up/runs')],
  ['run-events', 'RunEventsMessageSchema', mqtt('up/run-events')],
  ['usage', 'UsageMessageSchema', mqtt('up/usage')],
  ['update', 'UpdateMessageSchema', mqtt('up/update')],
  ['release-manifest', 'SignedReleaseSchema', 'A signed release manifest (OTA, docs/ota-security.md)'],
  ['root-metadata', 'SignedRootSchema', 'Signed root metadata (OTA, docs/ota-security.md)'],
  ['desired-state', 'DesiredStateMessageSchema', mqtt('down/desired')],
  ['command', 'CommandMessageSchema', mqtt('down/commands/{commandId}')],
  ['stored', 'StoredMessageSchema', mqtt('down/stored')],
  ['live-event', 'LiveEventSchema', 'SSE GET /api/v1/live (one event)'],
  ['provision-request', 'ProvisionRequestSchema', requestBody('POST /api/v1/provision')],
  ['provision-response', 'ProvisionResponseSchema', responseBody('POST /api/v1/provision')],
  ['login-request', 'LoginRequestSchema', requestBody('POST /api/v1/auth/login')],
  ['claim-token-create-request', 'ClaimTokenCreateRequestSchema', requestBody('POST /api/v1/claim-tokens')],
  ['device-update-request', 'DeviceUpdateRequestSchema', requestBody('PATCH /api/v1/devices/{id}')],
  ['agent-create-request', 'AgentCreateRequestSchema', requestBody('POST /api/v1/agents')],
  ['provider-create-request', 'ProviderCreateRequestSchema', requestBody('POST /api/v1/providers')],
  ['api-error', 'ApiErrorSchema', 'HTTP error body (every 4xx and 5xx)'],
];

/** Builds `{ fileName: jsonSchema }` from a module namespace holding the exported zod schemas. */
export function buildJsonSchemaDocuments(schemas) {
  const documents = {};
  for (const [name, exportName, title] of JSON_SCHEMA_DOCUMENTS) {
    const schema = schemas[exportName];
    if (schema === undefined) throw new Error(`@agentbox/schemas exports no ${exportName}`);
    documents[`${name}.schema.json`] = { ...z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS), title };
  }
  return documents;
}

/** The committed form of one document: two-space JSON and a final newline. */
export function serializeJsonSchema(document) {
  return `${JSON.stringify(document, null, 2)}\n`;
}
