import type { MqttClient } from 'mqtt';
import { describe, expect, it, vi } from 'vitest';
import { DynsecAdmin, deviceRoleName } from './dynsec-admin.js';

type Command = { command: string; [key: string]: unknown };

/** A DynsecAdmin whose control messages go to `answer` instead of a broker. */
function adminAnswering(answer: (command: Command) => { error?: string; data?: unknown }) {
  const admin = new DynsecAdmin({ on: () => undefined } as unknown as MqttClient);
  const sent: Command[] = [];
  vi.spyOn(admin, 'send').mockImplementation((commands) => {
    sent.push(...commands);
    return Promise.resolve(commands.map((command) => ({ command: command.command, ...answer(command) })));
  });
  return { admin, sent };
}

describe('DynsecAdmin.listClients', () => {
  it('pages with count and offset until totalCount is reached', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `box-${i}`);
    const { admin, sent } = adminAnswering((command) => {
      const offset = command.offset as number;
      const count = command.count as number;
      return { data: { totalCount: names.length, clients: names.slice(offset, offset + count) } };
    });
    expect(await admin.listClients(2)).toEqual(names);
    expect(sent.map((command) => [command.command, command.offset, command.count, command.verbose])).toEqual([
      ['listClients', 0, 2, false],
      ['listClients', 2, 2, false],
      ['listClients', 4, 2, false],
    ]);
  });

  it('fails on a refused command (an account that may not list)', async () => {
    const { admin } = adminAnswering(() => ({ error: 'Permission denied' }));
    await expect(admin.listRoles()).rejects.toThrow(/listRoles failed: Permission denied/);
  });
});

describe('DynsecAdmin.restoreDevice', () => {
  it('creates a lost client and role, and leaves a client that exists by now alone', async () => {
    const { admin, sent } = adminAnswering((command) =>
      command.command === 'createClient' ? { error: 'Client already exists' } : {},
    );
    await admin.restoreDevice('box-a', { client: true, role: true }, 'secret');
    expect(sent.map((command) => command.command)).toEqual(['createRole', 'createClient']);
    expect(sent[1]).toMatchObject({
      username: 'box-a',
      clientid: 'box-a',
      password: 'secret',
      roles: [{ rolename: deviceRoleName('box-a') }],
    });
  });

  it('gives a lost role back to the client without its password', async () => {
    const { admin, sent } = adminAnswering(() => ({}));
    await admin.restoreDevice('box-a', { client: false, role: true }, undefined);
    expect(sent.map((command) => command.command)).toEqual(['createRole', 'addClientRole']);
    expect(sent[1]).toMatchObject({ username: 'box-a', rolename: deviceRoleName('box-a') });
  });

  it('needs the password to create a lost client', async () => {
    const { admin } = adminAnswering(() => ({}));
    await expect(admin.restoreDevice('box-a', { client: true, role: false }, undefined)).rejects.toThrow(
      /no password/,
    );
  });
});
