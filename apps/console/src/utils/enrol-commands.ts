/** Shell-quoted when needed, so a URL with `&` or spaces still pastes as one argument. */
export function shellValue(value: string): string {
  return /^[A-Za-z0-9._:/@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `value` as the replacement of a sed `s|…|…|` command: `\`, `&` and the delimiter taken literally. */
function sedReplacement(value: string): string {
  return value.replace(/[\\&|]/g, (char) => `\\${char}`);
}

/** Where infra/box/install.sh keeps the box's configuration (infra/box/README.md). */
export const INSTALLED_AGENT_ENV = '/etc/agentbox/agent.env';

/** A second box from a checkout of this repository (README: `npm run agent`). */
export function repoEnrolCommand(fleetUrl: string, claimToken: string): string {
  return `AGENTBOX_FLEET_URL=${shellValue(fleetUrl)} AGENTBOX_CLAIM_TOKEN=${shellValue(claimToken)} AGENTBOX_STATE_DIR=./data/box-2 npm run agent`;
}

/**
 * A box installed with infra/box/install.sh: its unit reads `agent.env`, so the command writes the URL and
 * the token there (replacing the example's lines) and restarts the service, which enrolls on that start.
 */
export function installedEnrolCommand(
  fleetUrl: string,
  claimToken: string,
  envFile = INSTALLED_AGENT_ENV,
): string {
  const set = (name: string, value: string) =>
    `-e ${shellValue(`s|^#\\?${name}=.*|${name}=${sedReplacement(value)}|`)}`;
  return `sudo sed -i ${set('AGENTBOX_FLEET_URL', fleetUrl)} ${set('AGENTBOX_CLAIM_TOKEN', claimToken)} ${envFile} && sudo systemctl restart agentbox`;
}
