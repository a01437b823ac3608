import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import type { AlertDto, AlertState } from '@agentbox/schemas';
import { Device } from '../devices/device.entity.js';
import { AlertRow } from './alert.entity.js';
import { AlertRulesService } from './alert-rules.service.js';
import { isSilenced, SilencesService } from './silences.service.js';

/** How many resolved alerts the list shows, newest first. */
const RESOLVED_SHOWN = 500;

/** The alerts as people see them: firing first by severity, then recently resolved. */
@Injectable()
export class AlertsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(AlertRow) private readonly alerts: Repository<AlertRow>,
    private readonly rules: AlertRulesService,
    private readonly silences: SilencesService,
  ) {}

  async list(state: AlertState | undefined): Promise<AlertDto[]> {
    const states: AlertState[] = state ? [state] : ['firing', 'resolved'];
    const rows: AlertRow[] = [];
    if (states.includes('firing')) {
      rows.push(
        ...(await this.alerts.find({ where: { state: 'firing' }, order: { startsAt: 'DESC', id: 'ASC' } })),
      );
    }
    if (states.includes('resolved')) {
      rows.push(
        ...(await this.alerts.find({
          where: { state: 'resolved' },
          order: { endsAt: 'DESC', id: 'ASC' },
          take: RESOLVED_SHOWN,
        })),
      );
    }
    const rules = await this.rules.byIds([...new Set(rows.map((row) => row.ruleId))]);
    const deviceIds = [...new Set(rows.map((row) => row.deviceId).filter((id) => id !== ''))];
    const names = new Map(
      deviceIds.length === 0
        ? []
        : (
            await this.dataSource
              .getRepository(Device)
              .find({ select: { id: true, name: true }, where: { id: In(deviceIds) } })
          ).map((device) => [device.id, device.name]),
    );
    const silences = await this.silences.active(Date.now());
    return rows.flatMap((row): AlertDto[] => {
      const rule = rules.get(row.ruleId);
      if (!rule || row.state === 'pending') return [];
      const deviceName = names.get(row.deviceId);
      return [
        {
          id: row.id,
          ruleId: row.ruleId,
          ruleName: rule.name,
          kind: rule.kind,
          severity: rule.severity,
          ...(row.deviceId ? { deviceId: row.deviceId } : {}),
          ...(deviceName !== undefined ? { deviceName } : {}),
          state: row.state,
          silenced: row.state === 'firing' && isSilenced(silences, row.ruleId, row.deviceId),
          startsAt: new Date(row.startsAt).toISOString(),
          ...(row.state === 'resolved' && row.endsAt !== null
            ? { endsAt: new Date(row.endsAt).toISOString() }
            : {}),
          summary: row.summary,
        },
      ];
    });
  }

  async firingCount(): Promise<number> {
    return this.alerts.countBy({ state: 'firing' });
  }
}
