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
export type Assignment = OkBody<paths['/api/v1/assignments']['get']>[number];
export type AssignmentAccepted = OkBody<paths['/api/v1/assignments']['post']>;
export type AssignmentJob = OkBody<paths['/api/v1/assignment-jobs/{id}']['get']>;
export type TaskAccepted = OkBody<paths['/api/v1/agents/{id}/tasks']['post']>;
export type DeviceAgent = OkBody<paths['/api/v1/devices/{id}/agents']['get']>[number];
export type Run = OkBody<paths['/api/v1/runs']['get']>[number];
export type RunDetail = OkBody<paths['/api/v1/runs/{id}']['get']>;
export type Conversation = OkBody<paths['/api/v1/conversations']['post']>;
export type ConversationMessage = OkBody<
  paths['/api/v1/conversations/{id}/messages']['get']
>['items'][number];
export type ConversationMessageSent = OkBody<paths['/api/v1/conversations/{id}/messages']['post']>;
export type UsageSeriesPage = OkBody<paths['/api/v1/usage']['get']>;
export type UsageSummary = OkBody<paths['/api/v1/usage/summary']['get']>;

// ---------------------------------------------------------------- API keys, audit log

export type ApiKey = OkBody<paths['/api/v1/api-keys/{id}/revoke']['post']>;
export type ApiKeyCreated = OkBody<paths['/api/v1/api-keys']['post']>;
export type ApiKeyCreateBody = RequestBody<paths['/api/v1/api-keys']['post']>;
export type AuditEntry = OkBody<paths['/api/v1/audit']['get']>[number];
export type AuditQuery = NonNullable<paths['/api/v1/audit']['get']['parameters']['query']>;

// ---------------------------------------------------------------- users, claim tokens

export type UserAccount = OkBody<paths['/api/v1/users/{id}']['patch']>;
export type UserCreateBody = RequestBody<paths['/api/v1/users']['post']>;
export type UserUpdateBody = RequestBody<paths['/api/v1/users/{id}']['patch']>;
export type PasswordChangeBody = RequestBody<paths['/api/v1/auth/password']['post']>;
export type ClaimTokenListItem = OkBody<paths['/api/v1/claim-tokens']['get']>['items'][number];

// ---------------------------------------------------------------- hooks

export type HookList = OkBody<paths['/api/v1/hooks']['get']>;
export type Hook = HookList['items'][number];
export type HookCreated = OkBody<paths['/api/v1/hooks']['post']>;
export type HookCreateBody = RequestBody<paths['/api/v1/hooks']['post']>;
export type HookDelivery = OkBody<paths['/api/v1/hooks/{id}/deliveries']['get']>['items'][number];

// ---------------------------------------------------------------- alerts and notification channels

export type Alert = OkBody<paths['/api/v1/alerts']['get']>['items'][number];
export type AlertRule = OkBody<paths['/api/v1/alert-rules/{id}']['get']>;
export type AlertRuleCreateBody = RequestBody<paths['/api/v1/alert-rules']['post']>;
export type AlertRuleUpdateBody = RequestBody<paths['/api/v1/alert-rules/{id}']['patch']>;
export type NotificationChannel = OkBody<paths['/api/v1/notification-channels/{id}']['get']>;
export type ChannelCreateBody = RequestBody<paths['/api/v1/notification-channels']['post']>;
export type DeliveryOutcome = OkBody<paths['/api/v1/notification-channels/{id}/test']['post']>;
export type SilenceCreateBody = RequestBody<paths['/api/v1/silences']['post']>;
export type ChannelDelivery = OkBody<
  paths['/api/v1/notification-channels/{id}/deliveries']['get']
>['items'][number];
