import type { BackoffPolicy } from '@agentbox/retry';

/**
 * How a box retries the cloud (enrolment, broker connects): capped at 30 s, with full jitter so a fleet
 * that lost the cloud at the same moment does not come back at the same moment.
 */
export const CLOUD_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000, jitter: 1 };
