import { describe, expect, it } from 'vitest';
import { pubackOutcome } from './link.service.js';

describe('pubackOutcome', () => {
  it('keeps a message the broker cannot take now, to send it again', () => {
    // Unspecified error, Implementation specific error, Packet Identifier in use, Quota exceeded.
    for (const code of [0x80, 0x83, 0x91, 0x97]) expect(pubackOutcome(code)).toBe('deferred');
  });

  it('drops a message the broker refuses for good, so it does not block the spool forever', () => {
    // Not authorized, Topic Name invalid, Payload format invalid, and any code it does not know.
    for (const code of [0x87, 0x90, 0x99, 0xa0]) expect(pubackOutcome(code)).toBe('refused');
  });
});
