import type { UpdateOffer, UpdateStatus, UpdateStatusReport } from '@agentbox/schemas';

/**
 * How a simulated box answers an update offer (docs/protocol.md section 12): through to `healthy`, through
 * to a rollback after the restart, stuck after the download starts, or not at all.
 */
export type UpdateBehaviour = 'healthy' | 'roll-back' | 'download-only' | 'silent';

/** The statuses a box reports for each behaviour, in order. */
export const UPDATE_STEPS: Record<UpdateBehaviour, readonly UpdateStatus[]> = {
  healthy: ['downloading', 'downloaded', 'installing', 'rebooting', 'healthy'],
  'roll-back': ['downloading', 'downloaded', 'installing', 'rebooting', 'rolled-back'],
  'download-only': ['downloading'],
  silent: [],
};

/** The reports, one per step and without `ts`, of a box running `runningVersion` that takes `offer`. */
export function updateReports(
  offer: UpdateOffer,
  behaviour: UpdateBehaviour,
  runningVersion: string,
): Array<Omit<UpdateStatusReport, 'ts'>> {
  const version = offer.release.signed.version;
  const total = offer.release.signed.artifact.size;
  return UPDATE_STEPS[behaviour].map((status) => {
    const report = { rolloutId: offer.rolloutId, version, status, runningVersion };
    switch (status) {
      case 'downloading':
        return { ...report, progress: { bytes: 0, total } };
      case 'downloaded':
        return { ...report, progress: { bytes: total, total } };
      case 'rolled-back':
        return { ...report, reason: 'health-check-failed', detail: 'self-test failed' };
      case 'healthy':
        return { ...report, runningVersion: version };
      default:
        return report;
    }
  });
}
