import { Readable } from 'node:stream';

/** What the retained store keeps of a publish; aedes reads the packet back as it was stored. */
export interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

/** The retained part of an aedes persistence (aedes-persistence's `AedesPersistence` interface). */
export interface RetainedPersistence {
  storeRetained(packet: RetainedPacket, cb?: (error: Error | null) => void): Promise<void> | void;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

interface Level {
  children: Map<string, Level>;
  packet: RetainedPacket | undefined;
}

function newLevel(): Level {
  return { children: new Map(), packet: undefined };
}

/**
 * Retained messages in a tree of topic levels. aedes-persistence's memory store tests every retained topic
 * against each filter of a SUBSCRIBE, which after a restart of the fleet service (every box reconnecting and
 * subscribing while every box's `up/status` is retained) costs O(boxes) per SUBSCRIBE and O(boxes²) in all.
 * Here an exact filter is one lookup per level, and a wildcard visits only the levels it can match.
 *
 * Matching follows the qlobber matcher that aedes uses for retained and live delivery alike, so a box gets
 * the same messages as before: '+' matches one non-empty level, '#' zero or more levels of any kind.
 */
export class RetainedIndex {
  private readonly root = newLevel();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** MQTT-3.3.1-6: an empty payload deletes the topic's retained message. */
  store(packet: RetainedPacket): void {
    const levels = packet.topic.split('/');
    if (packet.payload.length === 0) {
      this.remove(this.root, levels, 0);
      return;
    }
    let level = this.root;
    for (const word of levels) {
      let next = level.children.get(word);
      if (next === undefined) {
        next = newLevel();
        level.children.set(word, next);
      }
      level = next;
    }
    if (level.packet === undefined) this.count += 1;
    level.packet = packet;
  }

  match(pattern: string): RetainedPacket[] {
    const words = pattern.split('/');
    const found: RetainedPacket[] = [];
    this.walk(this.root, words, 0, found);
    // Only a '#' before the last level (aedes refuses such filters) can reach a topic by two paths.
    const hashInside = words.indexOf('#');
    return hashInside !== -1 && hashInside < words.length - 1 ? [...new Set(found)] : found;
  }

  private walk(level: Level, words: string[], i: number, found: RetainedPacket[]): void {
    if (i === words.length) {
      if (level.packet !== undefined) found.push(level.packet);
      return;
    }
    const word = words[i];
    if (word === '#') {
      if (i === words.length - 1) {
        this.collect(level, found);
        return;
      }
      this.forEachLevel(level, (below) => this.walk(below, words, i + 1, found));
      return;
    }
    if (word === '+') {
      for (const [name, child] of level.children) {
        if (name !== '') this.walk(child, words, i + 1, found);
      }
      return;
    }
    const child = level.children.get(word as string);
    if (child !== undefined) this.walk(child, words, i + 1, found);
  }

  /** The level itself and everything below it: what a trailing '#' matches ('a/#' matches 'a' too). */
  private collect(level: Level, found: RetainedPacket[]): void {
    this.forEachLevel(level, (below) => {
      if (below.packet !== undefined) found.push(below.packet);
    });
  }

  private forEachLevel(level: Level, visit: (level: Level) => void): void {
    const stack = [level];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      visit(next);
      for (const child of next.children.values()) stack.push(child);
    }
  }

  /** Deletes the topic's message and prunes levels left empty, so deleted boxes leave no trace behind. */
  private remove(level: Level, words: string[], i: number): boolean {
    if (i === words.length) {
      if (level.packet !== undefined) {
        level.packet = undefined;
        this.count -= 1;
      }
    } else {
      const word = words[i] as string;
      const child = level.children.get(word);
      if (child !== undefined && this.remove(child, words, i + 1)) level.children.delete(word);
    }
    return level.packet === undefined && level.children.size === 0;
  }
}

/**
 * Moves a persistence's retained messages into a RetainedIndex. Call it before the broker takes its first
 * connection: retained messages stored earlier stay in the old store, out of reach.
 */
export function indexRetained(persistence: RetainedPersistence, index = new RetainedIndex()): RetainedIndex {
  persistence.storeRetained = (packet, cb) => {
    // A copy, as aedes-persistence keeps: aedes reuses and changes the packet objects it hands over.
    index.store({ ...packet });
    if (cb) {
      // Never synchronously, as with aedes-persistence: aedes may not expect its callback to run re-entrantly.
      process.nextTick(cb, null);
      return;
    }
    return Promise.resolve();
  };
  persistence.createRetainedStream = (pattern) => Readable.from(index.match(pattern));
  persistence.createRetainedStreamCombi = (patterns) =>
    Readable.from(patterns.flatMap((pattern) => index.match(pattern)));
  return index;
}
