import { describe, expect, it } from 'vitest';
import type { DeviceStateRow } from './device-state.entity.js';
import { mergeSections, ownerOf } from './desired-sections.js';

function stored(desiredSpec: Record<string, unknown>, agentsFingerprint: string | null): DeviceStateRow {
  return {
    deviceId: 'box-1',
    desiredVersion: 3,
    desiredSpec,
    desiredAt: new Date(0),
    agentsFingerprint,
    reportedSeq: null,
    reportedVersion: null,
    reported: null,
    reportedAt: null,
  };
}

const offer = { rolloutId: 'r-1' };
const agents = [{ id: 'a-1' }];
const providers = [{ id: 'p-1' }];

describe('desired-state sections', () => {
  it('gives agents and providers to the operator until the agents module has composed them', () => {
    expect(ownerOf('agents', null)).toBe('operator');
    expect(ownerOf('providers', stored({}, null))).toBe('operator');
    expect(ownerOf('agents', stored({}, 'f-1'))).toBe('agents');
    expect(ownerOf('update', null)).toBe('update');
    expect(ownerOf('telemetry', stored({}, 'f-1'))).toBe('operator');
  });

  it('an operator write replaces the operator sections and keeps the update offer', () => {
    const sut = mergeSections(
      'operator',
      stored({ telemetry: { intervalSec: 5 }, logs: {}, update: offer }, null),
      { telemetry: { intervalSec: 30 }, agents, update: { rolloutId: 'forged' } },
    );
    expect(sut).toEqual({ telemetry: { intervalSec: 30 }, agents, update: offer });
  });

  it('an operator write keeps composed agents and providers', () => {
    const sut = mergeSections('operator', stored({ agents, providers, telemetry: {} }, 'f-1'), {
      telemetry: { intervalSec: 30 },
      agents: [],
    });
    expect(sut).toEqual({ agents, providers, telemetry: { intervalSec: 30 } });
  });

  it('the agents composition replaces agents and providers, even hand-written ones, and keeps the rest', () => {
    const sut = mergeSections(
      'agents',
      stored({ agents: [{ id: 'manual' }], telemetry: {}, update: offer }, null),
      {
        agents,
        providers,
      },
    );
    expect(sut).toEqual({ agents, providers, telemetry: {}, update: offer });
  });

  it('the update owner writes only the offer; an empty write removes it', () => {
    const before = stored({ telemetry: {}, agents, update: offer }, 'f-1');
    expect(mergeSections('update', before, { update: { rolloutId: 'r-2' }, telemetry: null })).toEqual({
      telemetry: {},
      agents,
      update: { rolloutId: 'r-2' },
    });
    expect(mergeSections('update', before, {})).toEqual({ telemetry: {}, agents });
  });

  it('starts from an empty document for a box never written', () => {
    expect(mergeSections('update', null, { update: offer })).toEqual({ update: offer });
  });
});
