import { describe, expect, it } from 'vitest';
import { whereClause as sut } from './sql-where.js';

describe('whereClause', () => {
  it('ANDs the filters that have a value, parameters in the same order', () => {
    expect(
      sut([
        ['agent_id = ?', 'triage'],
        ['status = ?', undefined],
        ['ts < ?', 0],
      ]),
    ).toEqual({ where: 'WHERE agent_id = ? AND ts < ?', params: ['triage', 0] });
  });

  it('is empty without any value', () => {
    expect(sut([['agent_id = ?', undefined]])).toEqual({ where: '', params: [] });
  });
});
