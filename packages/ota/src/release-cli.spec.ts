import { describe, expect, it } from 'vitest';
import { cli } from '../test/release-cli-workspace.js';

describe('agentbox-release', () => {
  it('explains usage mistakes', async () => {
    expect((await cli('build', '--version', 'one')).err).toContain('not semantic');
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('keygen', '--bogus')).err).toContain('--help');
    expect((await cli('--help')).out).toContain('root rotate');
  });
});
