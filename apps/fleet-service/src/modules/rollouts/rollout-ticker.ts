import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { LeaderLock, LeaderTicker } from '../../database/leader-lock.js';
import { RolloutOffers } from './rollout-offers.service.js';
import { RolloutStepper } from './rollout-stepper.service.js';

/**
 * Arbitrary constant naming the advisory lock held by the replica that runs the rollout engine; the lock's
 * second key is the hash of the fleet's schema, since advisory locks are database-wide and fleets in other
 * schemas of the same database have leaders of their own.
 */
export const ROLLOUT_LEADER_LOCK_KEY = 0x726f6c6c;

/**
 * Runs the rollout engine every few seconds, in one replica only (LeaderTicker: a PostgreSQL session
 * advisory lock; SQLite is one process). A replica that wins the lock first reconciles the offers.
 */
@Injectable()
export class RolloutTicker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RolloutTicker.name);
  private readonly ticker: LeaderTicker<void>;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly stepper: RolloutStepper,
    private readonly offers: RolloutOffers,
    config: AppConfig,
  ) {
    const lock = new LeaderLock(dataSource, ROLLOUT_LEADER_LOCK_KEY, 'rollout engine', this.logger);
    this.ticker = new LeaderTicker(
      lock,
      () => config.rolloutTickMs,
      (gained) => this.pass(gained),
      'Rollout tick failed',
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.ticker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.ticker.stop();
  }

  /** True while this replica runs the engine. */
  isLeader(): boolean {
    return this.ticker.isLeader();
  }

  private async pass(gained: boolean): Promise<void> {
    if (gained) await this.offers.reconcile();
    await this.stepper.tick();
  }
}
