import { describe, expect, it } from 'vitest';
import { useUpdateFlowHarness } from '../../../../test/support/update-flow-harness.js';

describe('UpdateFlow', () => {
  const h = useUpdateFlowHarness();

  describe('rejections leave the inactive slot untouched', () => {
    it('tampered bundle: hash-mismatch', async () => {
      const signed = h.release('1.1.0');
      h.bundle.writeUInt8(h.bundle.readUInt8(h.bundle.length - 10) ^ 0xff, h.bundle.length - 10); // the server now serves different bytes
      expect(await h.rejectedWith(h.offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'hash-mismatch',
      });
    });

    it('not enough disk, checked before any byte is downloaded', async () => {
      const report = await h.rejectedWith(h.offer(h.release('1.1.0')), {
        statfs: () => Promise.resolve({ bavail: 10, bsize: 4096 }),
      });
      expect(report).toMatchObject({ status: 'rejected', reason: 'insufficient-disk' });
      expect(h.served.ranges).toEqual([]);
    });
  });
});
