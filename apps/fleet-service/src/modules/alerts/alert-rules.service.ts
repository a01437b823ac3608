import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type {
  AlertRuleCreateRequestSchema,
  AlertRuleDto,
  AlertRuleUpdateRequestSchema,
} from '@agentbox/schemas';
import type { z } from 'zod';
import { ChannelsService } from '../notifications/channels.service.js';
import { AlertRow, AlertRuleRow } from './alert.entity.js';
import { AlertException } from './alerts.exception.js';

type RuleCreate = z.output<typeof AlertRuleCreateRequestSchema>;
type RuleUpdate = z.output<typeof AlertRuleUpdateRequestSchema>;

function toRuleDto(row: AlertRuleRow): AlertRuleDto {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    params: row.params,
    target: row.target,
    severity: row.severity,
    channelIds: row.channelIds,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Alert rules: what to watch, on which boxes, how loud, and whom to tell. */
@Injectable()
export class AlertRulesService implements OnModuleInit {
  constructor(
    @InjectRepository(AlertRuleRow) private readonly rules: Repository<AlertRuleRow>,
    @InjectRepository(AlertRow) private readonly alerts: Repository<AlertRow>,
    private readonly channels: ChannelsService,
  ) {}

  onModuleInit(): void {
    this.channels.addUsageCheck(async (channelId) =>
      (await this.rules.find())
        .filter((rule) => rule.channelIds.includes(channelId))
        .map((rule) => rule.name),
    );
  }

  async list(): Promise<AlertRuleDto[]> {
    return (await this.rules.find({ order: { name: 'ASC', id: 'ASC' } })).map(toRuleDto);
  }

  async get(id: string): Promise<AlertRuleDto> {
    return toRuleDto(await this.require(id));
  }

  enabled(): Promise<AlertRuleRow[]> {
    return this.rules.findBy({ enabled: true });
  }

  async byIds(ids: readonly string[]): Promise<Map<string, AlertRuleRow>> {
    if (ids.length === 0) return new Map();
    return new Map((await this.rules.findBy({ id: In([...ids]) })).map((rule) => [rule.id, rule]));
  }

  async create(body: RuleCreate): Promise<{ id: string }> {
    await this.checkChannels(body.channelIds);
    const now = new Date();
    const id = randomUUID();
    await this.rules.insert({
      id,
      name: body.name,
      kind: body.kind,
      params: body.params,
      target: body.target,
      severity: body.severity,
      channelIds: [...new Set(body.channelIds)],
      enabled: body.enabled,
      createdAt: now,
      updatedAt: now,
    });
    return { id };
  }

  async update(id: string, patch: RuleUpdate): Promise<AlertRuleDto> {
    const row = await this.require(id);
    if (patch.channelIds !== undefined) await this.checkChannels(patch.channelIds);
    const conditionChanged = patch.kind !== undefined && patch.kind !== row.kind;
    Object.assign(row, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
      ...(patch.params !== undefined ? { params: patch.params } : {}),
      ...(patch.target !== undefined ? { target: patch.target } : {}),
      ...(patch.severity !== undefined ? { severity: patch.severity } : {}),
      ...(patch.channelIds !== undefined ? { channelIds: [...new Set(patch.channelIds)] } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    });
    if (
      row.kind === 'metric-threshold' &&
      (row.params.metric === undefined || row.params.op === undefined || row.params.threshold === undefined)
    ) {
      throw new AlertException(
        'ALERT_RULE_INVALID',
        'a metric-threshold rule needs params.metric, params.op and params.threshold',
      );
    }
    row.updatedAt = new Date();
    await this.rules.save(row);
    // A rule that now watches something else, or nothing, starts over: its alerts no longer say what it says.
    if (conditionChanged || !row.enabled) await this.alerts.delete({ ruleId: id });
    return toRuleDto(row);
  }

  async remove(id: string): Promise<void> {
    await this.require(id);
    await this.alerts.delete({ ruleId: id });
    await this.rules.delete({ id });
  }

  private async checkChannels(ids: readonly string[]): Promise<void> {
    const unknown = await this.channels.unknown(ids);
    if (unknown.length > 0) {
      throw new AlertException('ALERT_CHANNEL_UNKNOWN', `No notification channel ${unknown.join(', ')}`);
    }
  }

  private async require(id: string): Promise<AlertRuleRow> {
    const row = await this.rules.findOneBy({ id });
    if (!row) throw new AlertException('ALERT_RULE_NOT_FOUND', `Alert rule ${id} not found`);
    return row;
  }
}
