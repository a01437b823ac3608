import { waitFor } from '@agentbox/test-support';

export interface ReadinessAnswer {
  status: number;
  checks?: { database?: string; broker?: string };
}

/** One `GET /readyz`; a refused connection counts as status 0. */
export async function readiness(fleetUrl: string): Promise<ReadinessAnswer> {
  try {
    const response = await fetch(`${fleetUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json().catch(() => ({}))) as { checks?: ReadinessAnswer['checks'] };
    return { status: response.status, ...(body.checks ? { checks: body.checks } : {}) };
  } catch {
    return { status: 0 };
  }
}

/** Waits until `/readyz` answers `status`, and returns that answer. */
export function waitForReadiness(
  fleetUrl: string,
  status: 200 | 503,
  what: string,
  timeoutMs = 30_000,
): Promise<ReadinessAnswer> {
  return waitFor(
    `/readyz ${status} (${what})`,
    async () => {
      const answer = await readiness(fleetUrl);
      return answer.status === status ? answer : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
