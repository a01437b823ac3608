import semver from 'semver';

/** -1, 0 or 1 as semantic version `a` is lower than, equal to or higher than `b` (pre-releases sort first). */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  return semver.compare(parseVersion(a), parseVersion(b));
}

export function isValidVersion(version: string): boolean {
  return semver.valid(version, { loose: false }) === version;
}

function parseVersion(version: string): string {
  if (!isValidVersion(version)) {
    throw new TypeError(`"${version}" is not a semantic version (use MAJOR.MINOR.PATCH, e.g. 1.4.2)`);
  }
  return version;
}
