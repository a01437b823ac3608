import { describe, expect, it } from 'vitest';
import { compareVersions } from './versions.js';

describe('compareVersions', () => {
  it('orders semantic versions, pre-releases before their release', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('1.4.2', '1.4.2')).toBe(0);
    expect(compareVersions('1.5.0-rc.1', '1.5.0')).toBe(-1);
    expect(compareVersions('1.5.0-rc.2', '1.5.0-rc.10')).toBe(-1);
  });

  it('refuses what is not a semantic version, saying what is expected', () => {
    expect(() => compareVersions('v1.2', '1.0.0')).toThrow(/MAJOR.MINOR.PATCH/);
  });
});
