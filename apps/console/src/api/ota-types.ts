import type { OkBody, RequestBody, paths } from '@agentbox/api-client';

/**
 * Names for the over-the-air update bodies, taken from the generated OpenAPI types of @agentbox/api-client
 * like those in types.ts, so a change in the fleet service shows up here as a type error.
 */
export type Release = OkBody<paths['/api/v1/releases']['get']>[number];
export type ReleaseDetail = OkBody<paths['/api/v1/releases/{id}']['get']>;
export type ReleaseStatus = Release['status'];
export type SignedReleaseBody = RequestBody<paths['/api/v1/releases']['post']>;
export type Rollout = OkBody<paths['/api/v1/rollouts']['get']>[number];
export type RolloutDetail = OkBody<paths['/api/v1/rollouts/{id}']['get']>;
export type RolloutStatus = Rollout['status'];
export type RolloutPauseReason = NonNullable<Rollout['pauseReason']>;
export type RolloutPhase = RolloutDetail['phases'][number];
export type RolloutBox = RolloutDetail['boxes'][number];
export type RolloutBoxStatus = RolloutBox['status'];
export type RolloutCreateBody = RequestBody<paths['/api/v1/rollouts']['post']>;
export type RolloutTargets = RolloutCreateBody['targets'];
export type DeviceUpdate = OkBody<paths['/api/v1/devices/{id}/updates']['get']>[number];
/** The actions an operator takes on a rollout, each its own POST /api/v1/rollouts/{id}/<action>. */
export type RolloutAction = 'start' | 'pause' | 'resume' | 'cancel' | 'retry-failed';
export type OtaRoot = OkBody<paths['/api/v1/ota/root']['get']>;
export type SignedRootBody = RequestBody<paths['/api/v1/ota/root']['put']>;
