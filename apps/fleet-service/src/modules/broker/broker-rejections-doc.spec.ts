import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MQTT_REJECTION_REASONS } from './broker.constants.js';

/** docs/protocol.md section 9 is written by hand: it must name every reason the broker counts, and no other. */
const doc = readFileSync(fileURLToPath(new URL('../../../../../docs/protocol.md', import.meta.url)), 'utf8');

describe('docs/protocol.md, agentbox_mqtt_rejections_total', () => {
  // The bullet that documents the counter, up to the next blank line.
  const bullet = /^- `agentbox_mqtt_rejections_total\{reason\}`:[\s\S]*?(?=\n\n)/m.exec(doc)?.[0] ?? '';

  it('is documented', () => {
    expect(bullet).not.toBe('');
  });

  it('lists every reason the broker counts, and only those', () => {
    const listed = [...(bullet.split(' one of ')[1] ?? '').matchAll(/`([a-z_]+)`/g)].map(
      ([, reason]) => reason,
    );
    expect(new Set(listed)).toEqual(new Set(MQTT_REJECTION_REASONS));
  });
});
