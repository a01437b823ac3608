import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import type { AlertKind } from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { NotifierService, type PendingNotification } from '../notifications/notifier.service.js';
import { conditionOf, readFleetFacts, targets, type FleetBox } from './alert-conditions.js';
import { stepAlert, timingOf, type AlertTrack } from './alert-state.js';
import { AlertRow } from './alert.entity.js';
import { alertNotification } from './alert-notification.js';
import { AlertRulesService } from './alert-rules.service.js';
import { isSilenced, SilencesService } from './silences.service.js';

const WRITE_CHUNK = 500;

/** What one evaluation changed. */
export interface EvaluationResult {
  changed: number;
  notified: number;
  firing: number;
}

/**
 * One evaluation of every enabled rule over the whole fleet: facts read with one query per kind in use
 * (alert-conditions.ts), the alert rows of those rules read at once, each (rule, box) stepped through
 * the state machine (alert-state.ts) in memory, and only the rows that changed written back.
 */
@Injectable()
export class AlertEvaluator {
  private lastFiring: number | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(AlertRow) private readonly alerts: Repository<AlertRow>,
    private readonly rules: AlertRulesService,
    private readonly silences: SilencesService,
    private readonly notifier: NotifierService,
    private readonly live: LiveEventsService,
    private readonly config: AppConfig,
  ) {}

  async evaluate(now = Date.now()): Promise<EvaluationResult> {
    const rules = await this.rules.enabled();
    const kinds = new Set<AlertKind>(rules.map((rule) => rule.kind));
    const facts = await readFleetFacts(this.dataSource, kinds, now);
    const boxes = new Map(facts.boxes.map((box) => [box.id, box]));
    const rows =
      rules.length === 0 ? [] : await this.alerts.findBy({ ruleId: In(rules.map((rule) => rule.id)) });
    const byPair = new Map(rows.map((row) => [`${row.ruleId}\n${row.deviceId}`, row]));
    const silences = await this.silences.active(now);

    const inserts: AlertRow[] = [];
    const updates: AlertRow[] = [];
    const deletes: string[] = [];
    const outbox: PendingNotification[] = [];
    for (const rule of rules) {
      const timing = timingOf(rule.params, this.config.alerts.renotifyMs);
      const seen = new Set<string>();
      const step = (box: FleetBox, summary: string | null) => {
        const row = byPair.get(`${rule.id}\n${box.id}`);
        if (!row && summary === null) return;
        const silenced = isSilenced(silences, rule.id, box.id);
        const { track, notify } = stepAlert(row, summary !== null, now, timing, silenced);
        if (track === null) {
          if (row) deletes.push(row.id);
          return;
        }
        // The summary is the one seen when the episode began: a firing alert keeps it.
        const summaryNow = summary !== null && row?.state !== 'firing' ? summary : (row?.summary ?? '');
        const next: AlertRow = {
          ...(row ?? { id: randomUUID(), ruleId: rule.id, deviceId: box.id }),
          ...track,
          summary: summaryNow,
        };
        if (!row) inserts.push(next);
        else if (changed(row, track) || next.summary !== row.summary) updates.push(next);
        if (notify) {
          const notification = alertNotification(notify, rule, next, box);
          outbox.push({ channelIds: rule.channelIds, alertId: next.id, notification });
        }
      };
      for (const box of facts.boxes) {
        if (!targets(rule.target, box)) continue;
        seen.add(box.id);
        step(box, conditionOf(rule.kind, rule.params, box, facts));
      }
      // Alerts of boxes the rule no longer covers (deleted, retagged): their condition is gone.
      for (const row of rows) {
        if (row.ruleId !== rule.id || seen.has(row.deviceId)) continue;
        step(boxes.get(row.deviceId) ?? { id: row.deviceId, name: row.deviceId, tags: [] }, null);
      }
    }
    await this.write(inserts, updates, deletes);
    // Told only once the new states are stored: a failed write is evaluated again next tick, not told twice.
    this.notifier.notify(outbox);
    const firing = countFiring(rows, inserts, updates, deletes);
    if (firing !== this.lastFiring) {
      this.lastFiring = firing;
      this.live.publish({ type: 'alert', firing });
    }
    return { changed: inserts.length + updates.length + deletes.length, notified: outbox.length, firing };
  }

  private async write(inserts: AlertRow[], updates: AlertRow[], deletes: string[]): Promise<void> {
    if (inserts.length + updates.length + deletes.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(AlertRow);
      for (let i = 0; i < inserts.length; i += WRITE_CHUNK)
        await repo.insert(inserts.slice(i, i + WRITE_CHUNK));
      for (const row of updates) {
        const { id, ...fields } = row;
        await repo.update({ id }, fields);
      }
      for (let i = 0; i < deletes.length; i += WRITE_CHUNK)
        await repo.delete({ id: In(deletes.slice(i, i + WRITE_CHUNK)) });
    });
  }
}

const TRACK_FIELDS = [
  'state',
  'activeSince',
  'clearSince',
  'startsAt',
  'endsAt',
  'notifiedAt',
  'notifiedState',
] as const;

function changed(row: AlertRow, track: AlertTrack): boolean {
  return TRACK_FIELDS.some((field) => row[field] !== track[field]);
}

function countFiring(rows: AlertRow[], inserts: AlertRow[], updates: AlertRow[], deletes: string[]): number {
  const state = new Map(rows.map((row) => [row.id, row.state]));
  for (const row of [...inserts, ...updates]) state.set(row.id, row.state);
  for (const id of deletes) state.delete(id);
  let firing = 0;
  for (const value of state.values()) if (value === 'firing') firing += 1;
  return firing;
}
