import { describe, expect, it } from 'vitest';
import type { CommandMessage } from '@agentbox/schemas';
import { runCommand } from './commands.service.js';

const command = (overrides: Partial<CommandMessage> = {}): CommandMessage => ({
  v: 1,
  id: 'cmd-1',
  name: 'ping',
  args: {},
  issuedAt: 1_000,
  expiresAt: 2_000,
  ...overrides,
});

describe('runCommand', () => {
  const ran: string[] = [];
  const builtIns = new Map([
    [
      'ping',
      () => {
        ran.push('ping');
        return { status: 'succeeded' as const, output: { pong: true } };
      },
    ],
    [
      'boom',
      () => {
        throw new Error('it broke');
      },
    ],
  ]);
  const sut = runCommand;

  it('runs a built-in before its expiry', async () => {
    expect(await sut(command(), builtIns, 1_999)).toEqual({ status: 'succeeded', output: { pong: true } });
  });

  it('refuses an expired command without running it', async () => {
    ran.length = 0;
    const outcome = await sut(command(), builtIns, 2_000);
    expect(outcome.status).toBe('expired');
    expect(ran).toEqual([]);
  });

  it('rejects an unknown command', async () => {
    expect(await sut(command({ name: 'format-disk' }), builtIns, 1_500)).toMatchObject({
      status: 'rejected',
      error: 'unknown command: format-disk',
    });
  });

  it('reports a failing built-in as failed', async () => {
    expect(await sut(command({ name: 'boom' }), builtIns, 1_500)).toEqual({
      status: 'failed',
      error: 'it broke',
    });
  });
});
