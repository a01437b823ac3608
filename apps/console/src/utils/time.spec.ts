import { describe, expect, it } from 'vitest';
import { formatAbsolute, localizeTimes } from './time';

describe('localizeTimes', () => {
  it('shows the ISO times in a message from a box in the reader’s locale, leaving the rest', () => {
    const at = Date.UTC(2026, 11, 8);
    const text = "the agent's daily token budget (200 tokens) is used up until 2026-12-08T00:00:00.000Z";
    const shown = localizeTimes(text, 'en');
    expect(shown).toBe(
      `the agent's daily token budget (200 tokens) is used up until ${formatAbsolute(at, 'en')}`,
    );
    expect(shown).not.toContain('T00:00:00');
    expect(localizeTimes('no time here, 2026-12-08 only', 'zh-CN')).toBe('no time here, 2026-12-08 only');
  });
});
