import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, signEnvelope } from '@agentbox/ota';
import type { SignedRoot } from '@agentbox/schemas';
import {
  DAY,
  iso,
  release,
  rootOf,
  useUpdateFlowHarness,
} from '../../../../test/support/update-flow-harness.js';

describe('UpdateFlow', () => {
  const h = useUpdateFlowHarness();

  describe('rejections leave the inactive slot untouched', () => {
    it('signature by an unknown key', async () => {
      const report = await h.rejectedWith(h.offer(release(h.bundle, '1.1.0', generateKeyPair())));
      expect(report).toMatchObject({ status: 'rejected', reason: 'unknown-key' });
      expect(h.served.ranges).toEqual([]);
    });

    it('a key the newest root dropped: key-revoked, and the newer root is pinned', async () => {
      const newKey = generateKeyPair();
      const root2 = signEnvelope(rootOf(2, h.rootKey, [newKey]), [h.rootKey.privateKeyPem]) as SignedRoot;
      const root1 = JSON.parse(await readFile(join(h.dir, 'ota', 'root.json'), 'utf8')) as SignedRoot;
      const report = await h.rejectedWith(
        h.offer(release(h.bundle, '1.1.0', h.releaseKey), { roots: [root1, root2] }),
      );
      expect(report).toMatchObject({ status: 'rejected', reason: 'key-revoked' });
      const pinned = JSON.parse(await readFile(join(h.dir, 'ota', 'root.json'), 'utf8')) as SignedRoot;
      expect(pinned.signed.version).toBe(2);
    });

    it('expired metadata', async () => {
      const signed = release(h.bundle, '1.1.0', h.releaseKey, { expires: iso(Date.now() - DAY) });
      expect(await h.rejectedWith(h.offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'metadata-expired',
      });
    });

    it('a downgrade', async () => {
      const signed = release(h.bundle, '0.9.0', h.releaseKey);
      expect(await h.rejectedWith(h.offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'downgrade',
      });
    });

    it('a release for another architecture', async () => {
      const signed = release(h.bundle, '1.1.0', h.releaseKey, { compatibility: { arch: ['arm64'] } });
      expect(await h.rejectedWith(h.offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'incompatible-arch',
      });
    });

    it('not running under the launcher', async () => {
      const report = await h.rejectedWith(h.offer(release(h.bundle, '1.1.0', h.releaseKey)), {
        bootStatePath: undefined,
      });
      expect(report.status).toBe('rejected');
      expect(report.detail).toMatch(/not installed with slots/);
    });
  });
});
