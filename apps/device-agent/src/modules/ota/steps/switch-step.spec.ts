import { describe, expect, it } from 'vitest';
import { useUpdateFlowHarness } from '../../../../test/support/update-flow-harness.js';

describe('UpdateFlow', () => {
  const h = useUpdateFlowHarness();

  it('waits for agent runs to finish before restarting, unless forced past maxWaitSec', async () => {
    let runs = 1;
    const sut = h.flow({ runsInProgress: () => runs });
    await sut.offer(h.offer(h.release('1.1.0')));
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(h.restarts).toBe(0);
    expect(h.bootState().pending).toBeNull();
    runs = 0;
    await sut.idle();
    expect(h.restarts).toBe(1);
  });

  it('forced: restarts after maxWaitSec even with a run in progress', async () => {
    const sut = h.flow({ runsInProgress: () => 1 });
    await sut.offer(
      h.offer(h.release('1.1.0'), {
        policy: { force: true, maxWaitSec: 0, healthDeadlineSec: 60 },
      }),
    );
    await sut.idle();
    expect(h.restarts).toBe(1);
  });
});
