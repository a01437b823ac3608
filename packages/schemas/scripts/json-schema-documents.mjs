// The JSON Schema documents published under docs/protocol/, shared by export-json-schema.mjs (which feeds it
// the built package) and src/json-schema.spec.ts (which feeds it the sources and checks the committed files).
import { z } from 'zod';

/**
 * `io: 'input'` describes what a receiver's validator accepts: fields with defaults are optional, and unknown
 * fields are allowed (the zod objects strip them rather than refuse them).
 */
export const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', io: 'input' };

/** File name (without `.schema.json`), exported schema name, and a title naming where the payload travels. */
export const JSON_SCHEMA_DOCUMENTS = [
  ['status', 'StatusMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/status'],
  ['birth', 'BirthMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/birth'],
  ['telemetry', 'TelemetryMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/telemetry'],
  ['reported-state', 'ReportedStateMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/state'],
  ['events', 'EventsMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/events'],
  [
    'command-result',
    'CommandResultMessageSchema',
    'MQTT agentbox/v1/devices/{deviceId}/up/results/{commandId}',
  ],
  ['runs', 'RunsMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/runs'],
  ['run-events', 'RunEventsMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/run-events'],
  ['usage', 'UsageMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/usage'],
  ['update', 'UpdateMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/up/update'],
  ['release-manifest', 'SignedReleaseSchema', 'A signed release manifest (OTA, docs/ota-security.md)'],
  ['root-metadata', 'SignedRootSchema', 'Signed root metadata (OTA, docs/ota-security.md)'],
  ['desired-state', 'DesiredStateMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/down/desired'],
  ['command', 'CommandMessageSchema', 'MQTT agentbox/v1/devices/{deviceId}/down/commands/{commandId}'],
  ['live-event', 'LiveEventSchema', 'SSE GET /api/v1/live (one event)'],
  ['provision-request', 'ProvisionRequestSchema', 'HTTP POST /api/v1/provision request body'],
  ['provision-response', 'ProvisionResponseSchema', 'HTTP POST /api/v1/provision response body'],
  ['login-request', 'LoginRequestSchema', 'HTTP POST /api/v1/auth/login request body'],
  [
    'claim-token-create-request',
    'ClaimTokenCreateRequestSchema',
    'HTTP POST /api/v1/claim-tokens request body',
  ],
  ['device-update-request', 'DeviceUpdateRequestSchema', 'HTTP PATCH /api/v1/devices/{id} request body'],
  ['agent-create-request', 'AgentCreateRequestSchema', 'HTTP POST /api/v1/agents request body'],
  ['provider-create-request', 'ProviderCreateRequestSchema', 'HTTP POST /api/v1/providers request body'],
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
