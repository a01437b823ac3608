import type { UserRole } from '@agentbox/schemas';
import { releaseUploadCommand } from './release-commands';

/**
 * What to run with a new key: the release upload needs an admin key (the API refuses a lower role with
 * 403), so a viewer or operator key is shown a call its role may make instead.
 */
export function apiKeyUsageCommand(fleetUrl: string, role: UserRole): string {
  if (role === 'admin') return releaseUploadCommand(fleetUrl);
  return [
    'export AGENTBOX_API_KEY=abk_…',
    `curl -fsS -H "Authorization: Bearer $AGENTBOX_API_KEY" ${fleetUrl}/api/v1/devices`,
  ].join('\n');
}
