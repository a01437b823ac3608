import { describe, expect, it } from 'vitest';
import { assignedDevices, targetKey } from './assignments';

const boxes = [
  { id: 'a', tags: ['lab'] },
  { id: 'b', tags: ['lab', 'edge'] },
  { id: 'c', tags: [] },
];

describe('assignments', () => {
  it('finds the boxes an agent runs on', () => {
    expect(assignedDevices([], boxes)).toEqual([]);
    expect(assignedDevices([{ type: 'tag', tag: 'edge' }], boxes).map((d) => d.id)).toEqual(['b']);
    expect(
      assignedDevices(
        [
          { type: 'tag', tag: 'lab' },
          { type: 'device', deviceId: 'c' },
        ],
        boxes,
      ).map((d) => d.id),
    ).toEqual(['a', 'b', 'c']);
    expect(assignedDevices([{ type: 'all' }], boxes)).toHaveLength(3);
  });

  it('keys targets so the same one is not offered twice', () => {
    expect(targetKey({ type: 'device', deviceId: 'a' })).toBe('device:a');
    expect(targetKey({ type: 'tag', tag: 'lab' })).toBe('tag:lab');
    expect(targetKey({ type: 'all' })).toBe('all');
  });
});
