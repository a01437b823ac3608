import type { OkBody, RequestBody, paths } from '@agentbox/api-client';

/**
 * Names for the bodies the console reads and sends, all taken from the generated OpenAPI types of
 * @agentbox/api-client so a change in the fleet service shows up here as a type error.
 */
export type LoginResponse = OkBody<paths['/api/v1/auth/login']['post']>;
export type SessionUser = OkBody<paths['/api/v1/auth/me']['get']>;
export type UserRole = SessionUser['role'];
export type DeviceList = OkBody<paths['/api/v1/devices']['get']>;
export type Device = DeviceList['items'][number];
export type DeviceHardware = NonNullable<Device['hardware']>;
export type DeviceUpdateBody = RequestBody<paths['/api/v1/devices/{id}']['patch']>;
export type DeviceDelivery = OkBody<paths['/api/v1/devices/{id}/delivery']['get']>;
export type TelemetryPage = OkBody<paths['/api/v1/devices/{id}/telemetry']['get']>;
export type TelemetryPoint = TelemetryPage['samples'][number];
export type ClaimTokenCreateBody = RequestBody<paths['/api/v1/claim-tokens']['post']>;
export type ClaimToken = OkBody<paths['/api/v1/claim-tokens']['post']>;
export type Enrollment = OkBody<paths['/api/v1/enrollment']['get']>;

// ---------------------------------------------------------------- agents, providers, runs, usage

export type Provider = OkBody<paths['/api/v1/providers/{id}']['get']>;
export type ProviderCreateBody = RequestBody<paths['/api/v1/providers']['post']>;
export type ProviderUpdateBody = RequestBody<paths['/api/v1/providers/{id}']['patch']>;
export type Agent = OkBody<paths['/api/v1/agents/{id}']['get']>;
export type AgentCreateBody = RequestBody<paths['/api/v1/agents']['post']>;
export type AgentUpdateBody = RequestBody<paths['/api/v1/agents/{id}']['put']>;
export type AgentVersion = OkBody<paths['/api/v1/agents/{id}/versions']['get']>[number];
export type Assignment = OkBody<paths['/api/v1/assignments']['post']>;
export type TaskAccepted = OkBody<paths['/api/v1/agents/{id}/tasks']['post']>;
export type DeviceAgent = OkBody<paths['/api/v1/devices/{id}/agents']['get']>[number];
export type Run = OkBody<paths['/api/v1/runs']['get']>[number];
export type RunDetail = OkBody<paths['/api/v1/runs/{id}']['get']>;
export type UsageSeriesPage = OkBody<paths['/api/v1/usage']['get']>;
export type UsageSummary = OkBody<paths['/api/v1/usage/summary']['get']>;

// ---------------------------------------------------------------- API keys, audit log

export type ApiKey = OkBody<paths['/api/v1/api-keys/{id}/revoke']['post']>;
export type ApiKeyCreated = OkBody<paths['/api/v1/api-keys']['post']>;
export type ApiKeyCreateBody = RequestBody<paths['/api/v1/api-keys']['post']>;
export type AuditEntry = OkBody<paths['/api/v1/audit']['get']>[number];
export type AuditQuery = NonNullable<paths['/api/v1/audit']['get']['parameters']['query']>;
