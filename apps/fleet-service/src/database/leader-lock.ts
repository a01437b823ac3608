import type { Logger } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';

const LOCK_ARGS = '$1::int, hashtext(current_schema())';

/** What `lead()` found: whether this replica leads, and whether it has just become the leader. */
export interface Leadership {
  leading: boolean;
  /** True on the pass that won the lock (the caller's moment to catch up on what the old leader left). */
  gained: boolean;
}

/**
 * One leader among the replicas for a periodic job. On PostgreSQL the leader holds a session advisory
 * lock (first key: the job's constant; second: the hash of the fleet's schema, since advisory locks are
 * database-wide and fleets in other schemas have leaders of their own) on a connection of its own for
 * as long as it leads; when it dies, its session ends, the lock goes with it and another replica takes
 * over at its next try. SQLite is one process: it always leads.
 */
export class LeaderLock {
  private lockRunner: QueryRunner | undefined;
  private leading = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly key: number,
    private readonly job: string,
    private readonly logger: Logger,
  ) {}

  isLeader(): boolean {
    return this.leading;
  }

  async lead(): Promise<Leadership> {
    if (this.dataSource.options.type !== 'postgres') {
      const gained = !this.leading;
      this.leading = true;
      return { leading: true, gained };
    }
    if (this.leading && this.lockRunner) {
      try {
        // The lock lives as long as this session: check the session is still there.
        await this.lockRunner.query('SELECT 1');
        return { leading: true, gained: false };
      } catch (error) {
        this.logger.warn(`Lost the ${this.job} leader session: ${(error as Error).message}`);
        await this.resign();
        return { leading: false, gained: false };
      }
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const rows = (await runner.query(`SELECT pg_try_advisory_lock(${LOCK_ARGS}) AS locked`, [
        this.key,
      ])) as Array<{ locked: boolean }>;
      if (rows[0]?.locked !== true) {
        await runner.release();
        return { leading: false, gained: false };
      }
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw error;
    }
    this.lockRunner = runner;
    this.leading = true;
    this.logger.log(`This replica now runs the ${this.job}`);
    return { leading: true, gained: true };
  }

  async resign(): Promise<void> {
    const runner = this.lockRunner;
    this.lockRunner = undefined;
    this.leading = false;
    if (!runner) return;
    try {
      await runner.query(`SELECT pg_advisory_unlock(${LOCK_ARGS})`, [this.key]);
    } catch {
      // A broken session has dropped the lock already.
    }
    await runner.release().catch(() => undefined);
  }
}

/** What a LeaderTicker runs: one pass, told whether this replica has just become the leader. */
export type LeaderPass<T> = (gained: boolean) => Promise<T>;

/**
 * Runs `pass` every `intervalMs()` in the leading replica only (LeaderLock). Passes never overlap, the
 * timed ones and those asked for with `runOnce` alike: two at once would do the same work twice. A pass
 * that throws is logged as `failure` and the next one runs on time.
 */
export class LeaderTicker<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly lock: LeaderLock,
    private readonly intervalMs: () => number,
    private readonly pass: LeaderPass<T>,
    private readonly failure: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Waits for the pass under way, then gives the lock up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.lock.resign();
  }

  isLeader(): boolean {
    return this.lock.isLeader();
  }

  /** One pass now, after any under way; undefined when another replica leads or the pass failed. */
  runOnce(): Promise<T | undefined> {
    const next = (this.running ?? Promise.resolve()).then(() => this.leadAndRun());
    this.running = next;
    return next;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => this.schedule());
    }, this.intervalMs());
    this.timer.unref();
  }

  private async leadAndRun(): Promise<T | undefined> {
    try {
      const { leading, gained } = await this.lock.lead();
      if (!leading) return undefined;
      return await this.pass(gained);
    } catch (error) {
      this.logger.error(`${this.failure}: ${(error as Error).message}`);
      return undefined;
    }
  }
}
