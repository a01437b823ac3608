import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { LeaderLock, LeaderTicker } from '../../database/leader-lock.js';
import { NotifierService } from '../notifications/notifier.service.js';
import { AlertEvaluator, type EvaluationResult } from './alert-evaluator.service.js';

/** Arbitrary constant naming the advisory lock of the replica that evaluates alerts ('alrt'). */
export const ALERT_LEADER_LOCK_KEY = 0x616c7274;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Evaluates the alert rules every AGENTBOX_ALERT_TICK_MS, in one replica only (LeaderTicker), so every
 * alert is notified once however many replicas run.
 */
@Injectable()
export class AlertTicker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AlertTicker.name);
  private readonly ticker: LeaderTicker<EvaluationResult>;
  private prunedAt = 0;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly evaluator: AlertEvaluator,
    private readonly notifier: NotifierService,
    config: AppConfig,
  ) {
    const lock = new LeaderLock(dataSource, ALERT_LEADER_LOCK_KEY, 'alert evaluation', this.logger);
    this.ticker = new LeaderTicker(
      lock,
      () => config.alerts.tickMs,
      () => this.pass(),
      'Alert evaluation failed',
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.ticker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.ticker.stop();
  }

  isLeader(): boolean {
    return this.ticker.isLeader();
  }

  /** One pass now (tests); undefined when another replica leads. */
  runOnce(): Promise<EvaluationResult | undefined> {
    return this.ticker.runOnce();
  }

  private async pass(): Promise<EvaluationResult> {
    const result = await this.evaluator.evaluate();
    if (Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      await this.notifier.prune();
    }
    return result;
  }
}
