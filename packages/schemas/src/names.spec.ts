import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AgentCreateRequestSchema,
  ApiKeyCreateRequestSchema,
  DeviceUpdateRequestSchema,
  ProviderCreateRequestSchema,
  ProviderUpdateRequestSchema,
  ProvisionRequestSchema,
  RolloutPhaseSchema,
  RolloutTargetsSchema,
  UserCreateRequestSchema,
} from './http/index.js';
import { AssignmentTargetSchema } from './agents.js';
import { isValidName, NameSchema, TagSchema } from './names.js';

/** Characters the name rule refuses anywhere in a name, by why. */
const REFUSED = {
  NUL: '\u0000',
  CR: '\r',
  LF: '\n',
  tab: '\t',
  ESC: '\u001b',
  DEL: '\u007f',
  'C1 control (NEL)': '\u0085',
  'right-to-left override': '\u202e',
  'left-to-right override': '\u202d',
  'right-to-left isolate': '\u2067',
  'pop directional isolate': '\u2069',
  'right-to-left mark': '\u200f',
  'zero-width space': '\u200b',
  'byte order mark': '\ufeff',
  'line separator': '\u2028',
  'paragraph separator': '\u2029',
  'lone surrogate': '\ud800',
};

describe('the name rule', () => {
  it.each(Object.entries(REFUSED))('refuses a %s inside a name', (_why, char) => {
    expect(isValidName(`box${char}1`)).toBe(false);
    expect(isValidName(`${char}box`)).toBe(false);
  });

  it('refuses names that show nothing', () => {
    for (const blank of ['', ' ', '   ', '\u00a0', '\u3000', '\u3164', '\u2800 ', '\u200d']) {
      expect(isValidName(blank), JSON.stringify(blank)).toBe(false);
    }
  });

  it('takes names in any script, emoji sequences included, and drops spaces around them', () => {
    for (const ok of ['Kitchen box', '厨房的盒子', 'مربع المطبخ', 'ताक', '👩‍💻 lab', 'Box #3 (rack A)']) {
      expect(NameSchema.parse(ok)).toBe(ok);
    }
    expect(NameSchema.parse('  Kitchen box ')).toBe('Kitchen box');
    expect(isValidName('x'.repeat(100))).toBe(true);
    expect(isValidName('x'.repeat(101))).toBe(false);
  });

  it('never lets a control or format character through, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.constantFrom(...Object.values(REFUSED)),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        (before, bad, after) => {
          expect(isValidName(`a${before}${bad}${after}b`)).toBe(false);
        },
      ),
    );
  });
});

describe('every request that takes a name applies the rule', () => {
  const bad = 'evil\u202eexe.txt';
  const definition = {
    name: bad,
    instructions: 'Say hi',
    model: { provider: 'deepseek', model: 'deepseek-chat' },
  };
  const refusals: Array<[string, () => boolean]> = [
    ['device rename', () => DeviceUpdateRequestSchema.safeParse({ name: bad }).success],
    [
      'provisioning',
      () =>
        ProvisionRequestSchema.safeParse({ claimToken: 'x'.repeat(16), hardwareId: 'hw-00000001', name: bad })
          .success,
    ],
    ['agent', () => AgentCreateRequestSchema.safeParse({ id: 'hello', definition }).success],
    [
      'provider',
      () =>
        ProviderCreateRequestSchema.safeParse({ id: 'p1', name: bad, baseUrl: 'https://api.example.com/v1' })
          .success,
    ],
    ['provider update', () => ProviderUpdateRequestSchema.safeParse({ name: '   ' }).success],
    [
      'user',
      () =>
        UserCreateRequestSchema.safeParse({ username: 'a\u0000', password: 'p'.repeat(8), role: 'viewer' })
          .success,
    ],
    ['API key', () => ApiKeyCreateRequestSchema.safeParse({ name: 'ci\r\nforged', role: 'viewer' }).success],
    ['tag', () => TagSchema.safeParse('prod\u202e').success],
    ['assignment tag', () => AssignmentTargetSchema.safeParse({ type: 'tag', tag: 'a b' }).success],
    ['rollout target tag', () => RolloutTargetsSchema.safeParse({ tags: ['prod\n'] }).success],
    ['rollout phase', () => RolloutPhaseSchema.safeParse({ name: 'canary\u0000', count: 1 }).success],
  ];

  it.each(refusals)('%s', (_what, parses) => {
    expect(parses()).toBe(false);
  });

  it('still takes the agent definition with a good name', () => {
    expect(
      AgentCreateRequestSchema.safeParse({ id: 'hello', definition: { ...definition, name: 'Hi' } }).success,
    ).toBe(true);
  });
});
