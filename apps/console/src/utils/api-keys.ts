/**
 * The release CLI upload with an API key, for the console to show. The key stays out of the upload line:
 * it belongs in a secret store and the environment, not in shell history.
 */
export function releaseUploadCommand(fleetUrl: string): string {
  return [
    'export AGENTBOX_API_KEY=abk_…',
    `npm run release -- upload --url ${fleetUrl} \\`,
    '  --manifest releases/agentbox-device-agent-X.Y.Z.manifest.json \\',
    '  --bundle releases/agentbox-device-agent-X.Y.Z.tar.gz',
  ].join('\n');
}

/** The audit log names an API key by its public part, `abk_<id>`. */
export function isApiKeyActor(actor: string): boolean {
  return /^abk_[a-z2-7]{12}$/.test(actor);
}
