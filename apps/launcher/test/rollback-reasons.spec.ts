import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLLBACK_REASONS, UPDATE_REASONS } from '@agentbox/schemas';
import { LAUNCHER_ROLLBACK_REASONS } from '../boot-state.mjs';
import { APP_DIR } from './support/box.js';

/** The launcher's modules with the one place reasons are spelled, LAUNCHER_ROLLBACK_REASONS, cut out. */
function sourcesWithoutReasonList(): [string, string][] {
  return ['launcher.mjs', 'boot-state.mjs'].map((file) => {
    const source = readFileSync(join(APP_DIR, file), 'utf8');
    const list = /export const LAUNCHER_ROLLBACK_REASONS = Object\.freeze\(\{[^}]*\}\);/;
    if (file === 'boot-state.mjs') expect(source).toMatch(list);
    return [file, source.replace(list, '')];
  });
}

describe('rollback reasons the launcher writes to boot.json', () => {
  it('are all in ROLLBACK_REASONS of @agentbox/schemas, which the device agent reports', () => {
    const sut = Object.values(LAUNCHER_ROLLBACK_REASONS);
    expect(sut).toContain('crashed');
    for (const reason of sut) expect(ROLLBACK_REASONS).toContain(reason);
  });

  it('come only from LAUNCHER_ROLLBACK_REASONS: no other line spells a reason', () => {
    const reasons = new Set<string>([...UPDATE_REASONS, ...ROLLBACK_REASONS]);
    for (const [file, source] of sourcesWithoutReasonList()) {
      const spelled = [...source.matchAll(/(['"`])([a-z]+(?:-[a-z]+)*)\1/g)]
        .map((match) => match[2]!)
        .filter((literal) => reasons.has(literal));
      expect(spelled, file).toEqual([]);
      // Nor any other literal where a reason is passed or stored.
      const literalReasons = source.match(
        /(?:rollBack\(\s*[\w.]+,|\breason\s*[:=]|\breason\s*\?\?)\s*['"`]/g,
      );
      expect(literalReasons, file).toBeNull();
    }
  });
});
