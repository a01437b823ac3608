/**
 * The release CLI commands the console shows (Releases page, upload dialog, API keys). They run in the
 * repository checkout as the README's do; relative paths mean the directory `npm run` was started in.
 * One example version runs through all of them, so the files `build` writes are the ones `upload` names.
 */
export const EXAMPLE_RELEASE_VERSION = '1.5.0';

/** The first release ever: the release manager's keys, the root the boxes trust, then the build. */
export function firstReleaseCommands(version = EXAMPLE_RELEASE_VERSION): string {
  return [
    'npm run release -- keygen --out keys --name root',
    'npm run release -- keygen --out keys --name release',
    'npm run release -- root init --root-key keys/root.pem --release-key keys/release.pub.json \\',
    '  --expires 365d --out keys/root.json',
    releaseBuildCommand(version),
  ].join('\n');
}

/**
 * A release for this machine's architecture (bundles carry native addons: a fleet of x64 and arm64 boxes
 * needs one build on a machine of each, docs/operations.md "Over-the-air releases").
 */
export function releaseBuildCommand(version = EXAMPLE_RELEASE_VERSION): string {
  return [
    `npm run release -- build --version ${version} --key keys/release.pem \\`,
    '  --root keys/root.json --out releases',
  ].join('\n');
}

/**
 * The release CLI upload with an API key. The key stays out of the upload line: it belongs in a secret
 * store and the environment, not in shell history.
 */
export function releaseUploadCommand(fleetUrl: string, version = EXAMPLE_RELEASE_VERSION): string {
  return [
    'export AGENTBOX_API_KEY=abk_…',
    `npm run release -- upload --url ${fleetUrl} \\`,
    `  --manifest releases/agentbox-device-agent-${version}.manifest.json \\`,
    `  --bundle releases/agentbox-device-agent-${version}.tar.gz`,
  ].join('\n');
}
