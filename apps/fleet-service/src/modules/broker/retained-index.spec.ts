import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '@agentbox/schemas';
import { indexRetained, RetainedIndex, type RetainedPersistence } from './retained-index.js';

const brokers: Aedes[] = [];

afterEach(async () => {
  await Promise.all(
    brokers.splice(0).map((broker) => new Promise<void>((resolve) => broker.close(() => resolve()))),
  );
});

/** aedes' own default persistence (aedes-persistence memory): the plain matcher to compare with. */
async function plainPersistence(): Promise<RetainedPersistence> {
  const broker = await Aedes.createBroker();
  brokers.push(broker);
  return (broker as unknown as { persistence: RetainedPersistence }).persistence;
}

async function topicsOf(stream: Readable): Promise<string[]> {
  const found: string[] = [];
  for await (const packet of stream) found.push((packet as { topic: string }).topic);
  return found.sort();
}

/** A small deterministic generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

// Empty and '$' levels are where the matchers' corner cases live ('+' skips an empty level).
const WORDS = ['a', 'b', 'c', '', '$SYS', 'up'];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T;
}

function randomTopic(next: () => number): string {
  const depth = 1 + Math.floor(next() * 4);
  return Array.from({ length: depth }, () => pick(next, WORDS)).join('/');
}

function randomFilter(next: () => number): string {
  const depth = Math.floor(next() * 4);
  const levels = Array.from({ length: depth }, () => (next() < 0.3 ? '+' : pick(next, WORDS)));
  if (depth === 0 || next() < 0.3) levels.push('#');
  else if (next() < 0.2) levels.push('+');
  return levels.join('/');
}

describe('RetainedIndex', () => {
  it('finds the same retained messages as the plain matcher on random topics and filters', async () => {
    for (let seed = 1; seed <= 30; seed += 1) {
      const next = random(seed);
      const plain = await plainPersistence();
      const indexed = await plainPersistence();
      indexRetained(indexed);
      for (let i = 0; i < 60; i += 1) {
        // Some stores delete (empty payload, MQTT-3.3.1-6), some replace an existing topic.
        const packet = { topic: randomTopic(next), payload: Buffer.from(next() < 0.2 ? '' : `m${i}`) };
        await plain.storeRetained({ ...packet });
        await indexed.storeRetained({ ...packet });
      }
      const filters = Array.from({ length: 40 }, () => randomFilter(next));
      for (const filter of filters) {
        expect(await topicsOf(indexed.createRetainedStream(filter)), `seed ${seed}, ${filter}`).toEqual(
          await topicsOf(plain.createRetainedStream(filter)),
        );
      }
      expect(await topicsOf(indexed.createRetainedStreamCombi(filters.slice(0, 3)))).toEqual(
        await topicsOf(plain.createRetainedStreamCombi(filters.slice(0, 3))),
      );
    }
  });

  it('hands back the latest payload and forgets deleted topics down to the last level', async () => {
    const index = new RetainedIndex();
    const persistence = await plainPersistence();
    indexRetained(persistence, index);
    await persistence.storeRetained({ topic: 'a/b', payload: Buffer.from('1') });
    await persistence.storeRetained({ topic: 'a/b', payload: Buffer.from('2') });
    expect(index.match('a/b').map((packet) => packet.payload.toString())).toEqual(['2']);
    // The callback form, as aedes' publish path calls it.
    await new Promise<void>((resolve, reject) => {
      void persistence.storeRetained({ topic: 'a/b', payload: Buffer.alloc(0) }, (error) =>
        error ? reject(error) : resolve(),
      );
    });
    expect(index.size).toBe(0);
    expect(index.match('#')).toEqual([]);
    expect((index as unknown as { root: { children: Map<string, unknown> } }).root.children.size).toBe(0);
  });

  it('answers a box SUBSCRIBE among 10,000 boxes without walking every retained message', async () => {
    const boxes = 10_000;
    const plain = await plainPersistence();
    const indexed = await plainPersistence();
    indexRetained(indexed);
    for (let box = 0; box < boxes; box += 1) {
      const id = `box-${box}`;
      for (const topic of [topics.status(id), topics.desired(id)]) {
        await plain.storeRetained({ topic, payload: Buffer.from('{}') });
        await indexed.storeRetained({ topic, payload: Buffer.from('{}') });
      }
    }
    // What each reconnecting box subscribes to: its own `down/#`.
    const subscribe = async (persistence: RetainedPersistence, count: number) => {
      const started = performance.now();
      for (let box = 0; box < count; box += 1) {
        const found = await topicsOf(
          persistence.createRetainedStreamCombi([topics.deviceDownFilter(`box-${box}`)]),
        );
        expect(found).toEqual([topics.desired(`box-${box}`)]);
      }
      return (performance.now() - started) / count;
    };
    const plainMs = await subscribe(plain, 200);
    const indexedMs = await subscribe(indexed, 2_000);
    console.log(
      `retained lookup per SUBSCRIBE with ${boxes} boxes (${2 * boxes} retained): ` +
        `plain ${plainMs.toFixed(3)} ms, indexed ${indexedMs.toFixed(3)} ms`,
    );
    expect(indexedMs).toBeLessThan(plainMs);
    // The service's own subscription still gets every box's retained status.
    expect(await topicsOf(indexed.createRetainedStream(topics.allUpFilter()))).toHaveLength(boxes);
  });
});
