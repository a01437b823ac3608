import { describe, expect, it } from 'vitest';
import { describeRoute } from './audit-route.js';

describe('describeRoute', () => {
  it.each([
    ['POST', '/api/v1/providers', 'provider.created', 'provider'],
    ['PATCH', '/api/v1/providers/:id', 'provider.updated', 'provider'],
    ['DELETE', '/api/v1/claim-tokens/:id', 'claim-token.deleted', 'claim-token'],
    ['POST', '/api/v1/rollouts/:id/retry-failed', 'rollout.retry-failed', 'rollout'],
    ['PUT', '/api/v1/devices/:id/desired', 'device.desired.updated', 'device'],
    ['POST', '/api/v1/agents/:id/tasks', 'agent.tasks', 'agent'],
    ['PUT', '/api/v1/ota/root', 'ota-root.updated', 'ota-root'],
    ['POST', '/api/v1/auth/login', 'auth.login', 'auth'],
    ['POST', '/api/v1/provision', 'provision', 'provision'],
    ['POST', '/api/v1/policies', 'policy.created', 'policy'],
    ['GET', '/api/v1/audit', 'audit.read', 'audit'],
  ])('%s %s is %s on %s', (method, pattern, action, targetType) => {
    expect(describeRoute(method, pattern)).toEqual({ action, targetType });
  });
});
