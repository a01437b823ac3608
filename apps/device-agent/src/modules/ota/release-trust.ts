import { sha256File, unpackBundle, verifyRelease, verifyRootUpdate } from '@agentbox/ota';
import type { OtaTrust } from './ota-trust.js';

/** The checks of @agentbox/ota, in the shape the update flow uses. */
export const releaseTrust: OtaTrust = {
  verifyRoot(trusted, next, now) {
    const result = verifyRootUpdate(trusted, next, { now });
    return result.ok ? { ok: true, value: result.root } : result;
  },
  verifyRelease(release, root, context) {
    const result = verifyRelease(release, root, context);
    return result.ok ? { ok: true, value: result.manifest } : result;
  },
  sha256File,
  async unpackBundle(tarGz, dir) {
    await unpackBundle(tarGz, dir);
  },
};
