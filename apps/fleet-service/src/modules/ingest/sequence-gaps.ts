import type { SpoolPosition } from '@agentbox/schemas';

/** What is kept per box between messages (and across restarts, see SequenceGapMonitor). */
export interface BoxSpoolMark {
  epoch: string;
  /** Highest spool record id that arrived in this epoch. */
  high: number;
  /** Ids found missing so far. */
  gaps: number;
  /** The box's own count of records its full spool dropped, as last reported. */
  dropped: number;
}

interface BoxState extends BoxSpoolMark {
  /** Ranges of ids below `high` not arrived yet, oldest first; they may still come (a publish retried). */
  holes: Array<[number, number]>;
  /** Epochs this box has left: a late redelivery from one of them is not a spool starting over. */
  retired: string[];
}

/** Open holes kept per box; past this the oldest count as missing (a box does not reorder that far). */
const MAX_HOLES = 256;
const MAX_RETIRED = 4;

/** Where ids went missing, for the log. */
export interface Missing {
  count: number;
  /** The ids, when known (not for drops a box reports from before it was followed). */
  from?: number;
  to?: number;
}

/**
 * Finds loss between a box's spool and storage from the spool positions its messages carry
 * (docs/protocol.md section 2, "Spool positions"). Spool record ids are contiguous within an epoch, so an
 * id that did not arrive is a hole; a hole is counted as missing only once the box has moved past it
 * (`acked` of a later message covers it: the box will never send it again), so a message retried after a
 * failed publish never counts, and an id that arrives again is a redelivery, ignored. What a box's full spool
 * dropped is acked by it unsent, so it counts too; the box's `dropped` says how much of the count it explains.
 */
export class SequenceGapTracker {
  private readonly boxes = new Map<string, BoxState>();

  /** Takes a mark stored before (a restart of the service): counting goes on from there. */
  load(deviceId: string, mark: BoxSpoolMark): void {
    this.boxes.set(deviceId, { ...mark, holes: [], retired: [] });
  }

  mark(deviceId: string): BoxSpoolMark | undefined {
    const state = this.boxes.get(deviceId);
    return state && { epoch: state.epoch, high: state.high, gaps: state.gaps, dropped: state.dropped };
  }

  /** A message holding `position` arrived; returns the ids that are now known to be missing. */
  arrived(deviceId: string, position: SpoolPosition): Missing | undefined {
    if (!this.boxes.has(deviceId)) return this.firstSight(deviceId, position);
    const state = this.stateFor(deviceId, position);
    if (!state) return undefined;
    state.dropped = position.dropped;
    if (position.first > state.high + 1) state.holes.push([state.high + 1, position.first - 1]);
    else state.holes = subtract(state.holes, position.first, position.last);
    state.high = Math.max(state.high, position.last);
    return this.settleHoles(state, position.acked);
  }

  /** The message was turned away unacknowledged (ingest full): the box sends it again, so it is a hole again. */
  turnedAway(deviceId: string, position: SpoolPosition): void {
    const state = this.boxes.get(deviceId);
    if (state?.epoch !== position.epoch) return;
    state.holes = [...subtract(state.holes, position.first, position.last), [position.first, position.last]];
    state.holes.sort((a, b) => a[0] - b[0]);
  }

  /** The message arrived but can never be stored (refused by a database that answers): its ids are lost. */
  refused(deviceId: string, position: SpoolPosition): Missing | undefined {
    const state = this.boxes.get(deviceId);
    if (state?.epoch !== position.epoch) return undefined;
    const count = position.last - position.first + 1;
    state.gaps += count;
    return { count, from: position.first, to: position.last };
  }

  /**
   * A box followed for the first time (new, or new to spool positions): nothing below `acked` can be told
   * apart any more, so counting starts there, with what the box says its full spool dropped before.
   */
  private firstSight(deviceId: string, position: SpoolPosition): Missing | undefined {
    const state: BoxState = {
      epoch: position.epoch,
      high: position.acked,
      gaps: position.dropped,
      dropped: position.dropped,
      holes: [],
      retired: [],
    };
    this.boxes.set(deviceId, state);
    const missing = this.arrived(deviceId, position);
    if (position.dropped === 0) return missing;
    return { count: position.dropped + (missing?.count ?? 0), from: missing?.from, to: missing?.to };
  }

  private stateFor(deviceId: string, position: SpoolPosition): BoxState | undefined {
    const state = this.boxes.get(deviceId);
    if (!state) return undefined;
    if (state.epoch === position.epoch) return state;
    if (state.retired.includes(position.epoch)) return undefined;
    // The spool started over (wiped state directory, re-enrolled box): its ids run from 1 again.
    state.retired = [state.epoch, ...state.retired].slice(0, MAX_RETIRED);
    state.epoch = position.epoch;
    state.high = 0;
    state.holes = [];
    return state;
  }

  /** Counts (and forgets) the holes at or below `acked`, and the oldest past MAX_HOLES. */
  private settleHoles(state: BoxState, acked: number): Missing | undefined {
    let missing: { count: number; from: number; to: number } | undefined;
    const count = (from: number, to: number) => {
      missing = {
        count: (missing?.count ?? 0) + to - from + 1,
        from: Math.min(missing?.from ?? from, from),
        to: Math.max(missing?.to ?? to, to),
      };
    };
    const open: Array<[number, number]> = [];
    for (const [from, to] of state.holes) {
      if (from > acked) open.push([from, to]);
      else if (to <= acked) count(from, to);
      else {
        count(from, acked);
        open.push([acked + 1, to]);
      }
    }
    while (open.length > MAX_HOLES) {
      const [from, to] = open.shift()!;
      count(from, to);
    }
    state.holes = open;
    if (missing) state.gaps += missing.count;
    return missing;
  }
}

/** `holes` without the ids first..last. */
function subtract(holes: Array<[number, number]>, first: number, last: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [from, to] of holes) {
    if (to < first || from > last) {
      out.push([from, to]);
      continue;
    }
    if (from < first) out.push([from, first - 1]);
    if (to > last) out.push([last + 1, to]);
  }
  return out;
}
