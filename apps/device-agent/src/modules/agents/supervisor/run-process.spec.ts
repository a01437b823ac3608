import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, waitFor } from '@agentbox/test-support';
import { agent, useSupervisorHarness } from '../../../../test/support/supervisor-harness.js';

describe('AgentSupervisor', () => {
  const h = useSupervisorHarness();

  it('kill -9 of one run: that run is interrupted, another agent is unaffected, the agent runs again', async () => {
    h.sut.upsert(agent('victim'));
    h.sut.upsert(agent('bystander'));
    h.behaviours.set('victim', () => ({ kind: 'text', text: 'victim answer', delayMs: 1_500 }));
    h.behaviours.set('bystander', () => ({ kind: 'text', text: 'bystander answer', delayMs: 1_000 }));

    const victimRun = h.accepted(h.sut.trigger('victim', { type: 'message' }, 'go'));
    const bystanderRun = h.accepted(h.sut.trigger('bystander', { type: 'message' }, 'go'));
    await h.inFlight('victim');
    process.kill(h.pidOf('victim'), 'SIGKILL');

    expect(await h.finished(victimRun)).toMatchObject({
      status: 'interrupted',
      error: 'the run process ended unexpectedly (killed by SIGKILL)',
    });
    expect(await h.finished(bystanderRun)).toMatchObject({ status: 'succeeded', output: 'bystander answer' });
    expect(h.sut.status().victim).toMatchObject({ status: 'idle', lastRunStatus: 'interrupted' });

    const again = h.sut.trigger('victim', { type: 'message' }, 'again');
    expect(await h.finished(h.accepted(again))).toMatchObject({
      status: 'succeeded',
      output: 'victim answer',
    });
  });

  it('kills a run that exceeds its time limit and marks it timed out', async () => {
    h.sut.upsert(agent('slowpoke', { limits: { runTimeoutSec: 1 } }));
    h.behaviours.set('slowpoke', () => ({ kind: 'text', text: 'too late', delayMs: 10_000 }));

    const runId = h.accepted(h.sut.trigger('slowpoke', { type: 'message' }));
    const pid = h.pidOf('slowpoke');
    const record = await h.finished(runId, 5_000);

    expect(record).toMatchObject({
      status: 'timed-out',
      error: 'the run took longer than its limit of 1 s and was stopped',
    });
    expect(record.endedAt! - record.startedAt!).toBeLessThan(2_500);
    await waitFor('the run process to be gone', () => !isAlive(pid), { timeoutMs: 3_000 });
  });

  it('kills a run process over its memory limit, with the reason', async () => {
    // A Node.js process alone takes more than 32 MB resident, so the watch catches it as soon as it runs.
    h.sut.upsert(agent('hungry', { limits: { memoryMb: 32 } }));
    h.behaviours.set('hungry', () => ({ kind: 'text', text: 'fine', delayMs: 5_000 }));

    const runId = h.accepted(h.sut.trigger('hungry', { type: 'message' }));
    const record = await h.finished(runId);

    expect(record.status).toBe('failed');
    expect(record.error).toMatch(
      /^the run process used \d+ MB, over its memory limit of 32 MB, and was stopped$/,
    );
    expect(h.sut.status().hungry?.lastRunStatus).toBe('failed');
  });

  it('detects a run process that ran out of JavaScript heap', async () => {
    const hog = join(h.dir, 'heap-hog-worker.mjs');
    writeFileSync(hog, 'const hoard = [];\nfor (;;) hoard.push(new Array(100_000).fill(hoard.length));\n');
    await h.sut.stop();
    // Only the V8 heap cap (--max-old-space-size) is exercised here.
    h.sut = h.supervisorWithWorker(hog, 600_000);
    h.sut.upsert(agent('hog', { limits: { memoryMb: 64 } }));

    const record = await h.finished(h.accepted(h.sut.trigger('hog', { type: 'message' })));

    expect(record).toMatchObject({
      status: 'failed',
      error: 'the run process ran out of memory (its limit is 64 MB) and was stopped',
    });
  });
});
