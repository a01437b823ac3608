import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@agentbox/ota';
import { DAY, iso, release, useUpdateFlowHarness } from '../../../../test/support/update-flow-harness.js';

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
      const root2 = h.root(2, [newKey]);
      const root1 = await h.pinnedRoot();
      const report = await h.rejectedWith(h.offer(h.release('1.1.0'), { roots: [root1, root2] }));
      expect(report).toMatchObject({ status: 'rejected', reason: 'key-revoked' });
      const pinned = await h.pinnedRoot();
      expect(pinned.signed.version).toBe(2);
    });

    it('expired metadata', async () => {
      const signed = h.release('1.1.0', { expires: iso(Date.now() - DAY) });
      expect(await h.rejectedWith(h.offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'metadata-expired',
      });
    });

    it('a downgrade', async () => {
      const signed = h.release('0.9.0');
      expect(await h.rejectedWith(h.offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'downgrade',
      });
    });

    it('a release for another architecture', async () => {
      const signed = h.release('1.1.0', { compatibility: { arch: ['arm64'] } });
      expect(await h.rejectedWith(h.offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'incompatible-arch',
      });
    });

    it('not running under the launcher', async () => {
      const report = await h.rejectedWith(h.offer(h.release('1.1.0')), {
        bootStatePath: undefined,
      });
      expect(report.status).toBe('rejected');
      expect(report.detail).toMatch(/not installed with slots/);
    });
  });
});
