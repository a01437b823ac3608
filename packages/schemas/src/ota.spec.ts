import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sut from './ota.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members, so equal documents sign equal', () => {
    expect(sut.canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it('is JSON that parses back to the same value, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = sut.canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        const shuffled = JSON.parse(JSON.stringify(value), (_key, item: unknown) =>
          item && typeof item === 'object' && !Array.isArray(item)
            ? Object.fromEntries(Object.entries(item).reverse())
            : item,
        ) as unknown;
        expect(sut.canonicalJson(shuffled)).toBe(text);
      }),
    );
  });
});

describe('ReleaseManifestSchema', () => {
  const manifest = {
    type: 'release',
    version: '1.4.2',
    channel: 'stable',
    createdAt: '2026-11-28T00:00:00.000Z',
    expires: '2027-11-28T00:00:00.000Z',
    artifact: { name: 'agentbox-device-agent-1.4.2.tar.gz', size: 1234, sha256: 'a'.repeat(64) },
    compatibility: { arch: ['x64'] },
  };

  it('takes a manifest and fills in notes and the rollback flag', () => {
    expect(sut.ReleaseManifestSchema.parse(manifest)).toMatchObject({ notes: '', rollbackTarget: false });
  });

  it('refuses a version that is not semantic and an artifact name with a path', () => {
    expect(sut.ReleaseManifestSchema.safeParse({ ...manifest, version: 'v1.4' }).success).toBe(false);
    expect(
      sut.ReleaseManifestSchema.safeParse({
        ...manifest,
        artifact: { ...manifest.artifact, name: '../evil.tar.gz' },
      }).success,
    ).toBe(false);
  });
});
