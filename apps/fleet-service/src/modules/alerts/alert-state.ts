import type { AlertRuleDto } from '@agentbox/schemas';

export type AlertParams = AlertRuleDto['params'];

/** How long a firing alert's condition must stay clear before it resolves, unless the rule says. */
const DEFAULT_CLEAR_SEC = 60;

/** The state-machine part of an alert row (alert.entity.ts); times in epoch milliseconds. */
export interface AlertTrack {
  state: 'pending' | 'firing' | 'resolved';
  /** Since when the condition has held, while it holds and the alert is not firing. */
  activeSince: number | null;
  clearSince: number | null;
  startsAt: number;
  endsAt: number | null;
  notifiedAt: number | null;
  notifiedState: 'firing' | 'resolved' | null;
}

export interface StepTiming {
  forMs: number;
  clearMs: number;
  /** At most one firing notification per alert this often. */
  renotifyMs: number;
}

export interface StepResult {
  /** The track to store; null: forget it (a pending condition that cleared before forSec). */
  track: AlertTrack | null;
  /** What to tell the channels now, if anything. */
  notify: 'firing' | 'resolved' | null;
}

export function timingOf(params: AlertParams, renotifyMs: number): StepTiming {
  return {
    forMs: (params.forSec ?? 0) * 1_000,
    clearMs: (params.clearSec ?? DEFAULT_CLEAR_SEC) * 1_000,
    renotifyMs,
  };
}

/**
 * One evaluation of one (rule, box) at `now`: the condition must hold forMs before the alert fires and
 * stay clear clearMs before it resolves (hysteresis), and a firing is told at most once per renotifyMs,
 * so a flapping box neither fires on every blip nor storms the channels. A silenced alert goes through
 * the same states but tells nobody (its firing is told if it still fires when the silence ends). A resolved alert whose
 * condition returns fires again after forMs, as a new episode of the same alert.
 */
export function stepAlert(
  track: AlertTrack | undefined,
  active: boolean,
  now: number,
  timing: StepTiming,
  silenced = false,
): StepResult {
  if (!track) {
    if (!active) return { track: null, notify: null };
    const pending: AlertTrack = {
      state: 'pending',
      activeSince: now,
      clearSince: null,
      startsAt: now,
      endsAt: null,
      notifiedAt: null,
      notifiedState: null,
    };
    return stepAlert(pending, active, now, timing, silenced);
  }
  switch (track.state) {
    case 'pending':
    case 'resolved': {
      if (!active) {
        // A condition that cleared before forSec: a never-fired alert is forgotten, a resolved one stays.
        if (track.state === 'pending') return { track: null, notify: null };
        return { track: track.activeSince === null ? track : { ...track, activeSince: null }, notify: null };
      }
      const activeSince = track.activeSince ?? now;
      if (now - activeSince < timing.forMs) {
        return { track: track.activeSince === null ? { ...track, activeSince } : track, notify: null };
      }
      return fire({ ...track, activeSince }, now, timing, silenced);
    }
    case 'firing': {
      if (active) {
        const held = track.clearSince === null ? track : { ...track, clearSince: null };
        // Told late: once its silence ended, or once the renotify window of a quiet re-fire passed.
        if (track.notifiedState !== 'firing' && !silenced && !withinRenotify(track, now, timing)) {
          return { track: { ...held, notifiedAt: now, notifiedState: 'firing' }, notify: 'firing' };
        }
        return { track: held, notify: null };
      }
      const clearSince = track.clearSince ?? now;
      if (now - clearSince < timing.clearMs) {
        return { track: track.clearSince === null ? { ...track, clearSince } : track, notify: null };
      }
      const resolved: AlertTrack = {
        ...track,
        state: 'resolved',
        activeSince: null,
        clearSince: null,
        endsAt: now,
      };
      // A firing nobody was told of (silenced, or within renotifyMs) resolves quietly too.
      if (track.notifiedState !== 'firing') return { track: resolved, notify: null };
      return { track: { ...resolved, notifiedState: 'resolved' }, notify: 'resolved' };
    }
  }
}

function withinRenotify(track: AlertTrack, now: number, timing: StepTiming): boolean {
  return track.notifiedAt !== null && now - track.notifiedAt < timing.renotifyMs;
}

function fire(track: AlertTrack, now: number, timing: StepTiming, silenced: boolean): StepResult {
  const fired: AlertTrack = {
    ...track,
    state: 'firing',
    activeSince: null,
    // The episode began when the condition first held, not when forSec ran out.
    startsAt: track.activeSince ?? now,
    endsAt: null,
    clearSince: null,
    // Nobody has been told of this episode yet.
    notifiedState: track.notifiedState === 'firing' ? 'resolved' : track.notifiedState,
  };
  if (silenced || withinRenotify(track, now, timing)) return { track: fired, notify: null };
  return { track: { ...fired, notifiedAt: now, notifiedState: 'firing' }, notify: 'firing' };
}
