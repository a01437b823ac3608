import { describe, expect, it } from 'vitest';
import { StoredMessageSchema, topics, type SpoolPosition } from '@agentbox/schemas';
import type { Settlement } from '../../common/settlement.js';
import type { BrokerService } from '../broker/broker.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { addRange, StorageConfirmations } from './storage-confirmations.js';

const position = (epoch: string, first: number, last = first): SpoolPosition => ({
  epoch,
  first,
  last,
  acked: first - 1,
  dropped: 0,
});

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function confirmations() {
  const published: Array<{ topic: string; message: unknown }> = [];
  const broker = {
    publish: (topic: string, payload: string) => {
      published.push({ topic, message: StoredMessageSchema.parse(JSON.parse(payload)) });
      return Promise.resolve();
    },
  } as unknown as BrokerService;
  return { sut: new StorageConfirmations(broker, new MetricsService()), published };
}

describe('StorageConfirmations', () => {
  it('confirms after the message is settled, once per box per turn, adjacent ranges merged', async () => {
    const { sut, published } = confirmations();
    const settled: Settlement[] = [];
    const settle = (s: Settlement) => {
      // The PUBACK goes out before the confirmation is even queued.
      expect(published).toHaveLength(0);
      settled.push(s);
    };
    sut.after('box-a', position('e1', 1, 3), settle)('stored');
    sut.after('box-a', position('e1', 4), settle)('refused');
    sut.after('box-a', position('e1', 7, 8), settle)('stored');
    sut.after('box-b', position('e2', 5), settle)('stored');
    expect(settled).toEqual(['stored', 'refused', 'stored', 'stored']);
    await nextTurn();

    expect(published).toEqual([
      {
        topic: topics.stored('box-a'),
        message: {
          v: 1,
          epoch: 'e1',
          ranges: [
            [1, 4],
            [7, 8],
          ],
        },
      },
      { topic: topics.stored('box-b'), message: { v: 1, epoch: 'e2', ranges: [[5, 5]] } },
    ]);
  });

  it('confirms nothing a box must send again, and nothing of an epoch it left', async () => {
    const { sut, published } = confirmations();
    sut.after('box-a', position('e1', 1), () => undefined)('busy');
    await nextTurn();
    expect(published).toEqual([]);

    sut.after('box-a', position('old', 9), () => undefined)('stored');
    sut.after('box-a', position('new', 1), () => undefined)('stored');
    await nextTurn();
    expect(published).toEqual([
      { topic: topics.stored('box-a'), message: { v: 1, epoch: 'new', ranges: [[1, 1]] } },
    ]);
  });
});

describe('addRange', () => {
  it('merges touching and overlapping ranges into the last one, keeps the others apart', () => {
    const ranges: Array<[number, number]> = [];
    addRange(ranges, 5, 6);
    addRange(ranges, 7, 9);
    addRange(ranges, 8, 8);
    addRange(ranges, 12, 12);
    addRange(ranges, 3, 4);
    expect(ranges).toEqual([
      [5, 9],
      [12, 12],
      [3, 4],
    ]);
  });
});
