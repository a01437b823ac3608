import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { RolloutOffers } from './rollout-offers.service.js';
import { RolloutStepper } from './rollout-stepper.service.js';

/**
 * Arbitrary constant naming the advisory lock held by the replica that runs the rollout engine; the lock's
 * second key is the hash of the fleet's schema, since advisory locks are database-wide and fleets in other
 * schemas of the same database have leaders of their own.
 */
export const ROLLOUT_LEADER_LOCK_KEY = 0x726f6c6c;
const LOCK_ARGS = '$1::int, hashtext(current_schema())';

/**
 * Runs the rollout engine every few seconds, in one replica only. On PostgreSQL the leader holds a
 * session advisory lock on a connection of its own for as long as it leads; when it dies, its session
 * ends, the lock goes with it and another replica takes over at its next tick. SQLite is one process.
 */
@Injectable()
export class RolloutTicker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RolloutTicker.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lockRunner: QueryRunner | undefined;
  private leading = false;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly stepper: RolloutStepper,
    private readonly offers: RolloutOffers,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.resign();
  }

  /** True while this replica runs the engine. */
  isLeader(): boolean {
    return this.leading;
  }

  /** One pass now (tests); resolves when it is done. */
  async runOnce(): Promise<void> {
    await this.running;
    this.running = this.pass();
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => this.schedule());
    }, this.config.rolloutTickMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    try {
      if (!(await this.lead())) return;
      await this.stepper.tick();
    } catch (error) {
      this.logger.error(`Rollout tick failed: ${(error as Error).message}`);
    }
  }

  private async lead(): Promise<boolean> {
    if (this.dataSource.options.type !== 'postgres') {
      if (!this.leading) {
        this.leading = true;
        await this.offers.reconcile();
      }
      return true;
    }
    if (this.leading && this.lockRunner) {
      try {
        // The lock lives as long as this session: check the session is still there.
        await this.lockRunner.query('SELECT 1');
        return true;
      } catch (error) {
        this.logger.warn(`Lost the rollout leader session: ${(error as Error).message}`);
        await this.resign();
        return false;
      }
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const rows = (await runner.query(`SELECT pg_try_advisory_lock(${LOCK_ARGS}) AS locked`, [
        ROLLOUT_LEADER_LOCK_KEY,
      ])) as Array<{
        locked: boolean;
      }>;
      if (rows[0]?.locked !== true) {
        await runner.release();
        return false;
      }
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw error;
    }
    this.lockRunner = runner;
    this.leading = true;
    this.logger.log('This replica now runs the rollout engine');
    await this.offers.reconcile();
    return true;
  }

  private async resign(): Promise<void> {
    const runner = this.lockRunner;
    this.lockRunner = undefined;
    this.leading = false;
    if (!runner) return;
    try {
      await runner.query(`SELECT pg_advisory_unlock(${LOCK_ARGS})`, [ROLLOUT_LEADER_LOCK_KEY]);
    } catch {
      // A broken session has dropped the lock already.
    }
    await runner.release().catch(() => undefined);
  }
}
