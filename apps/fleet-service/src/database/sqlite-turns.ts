import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, QueryRunner } from 'typeorm';

/**
 * One caller at a time on a connection: a queue of turns, and the turn running now. A caller inside its
 * turn (anything its work awaits, however deep) is recognised through AsyncLocalStorage and goes on
 * without queueing, so a transaction's own statements and nested transactions never wait on themselves.
 */
class Turns {
  private readonly current = new AsyncLocalStorage<symbol>();
  private holder: symbol | undefined;
  private tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const mine = this.current.getStore();
    if (mine !== undefined && mine === this.holder) return work();
    return this.queue(work);
  }

  private async queue<T>(work: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((resolve) => (done = resolve));
    await before;
    const turn = Symbol('turn');
    this.holder = turn;
    try {
      return await this.current.run(turn, work);
    } finally {
      this.holder = undefined;
      done();
    }
  }
}

/** The EntityManager methods that open a transaction of their own (TypeORM's persist executor). */
const TRANSACTIONAL_METHODS = ['transaction', 'save', 'remove', 'softRemove', 'recover'] as const;

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * better-sqlite3 gives TypeORM ONE connection and ONE query runner for every caller, and a transaction's
 * statements are separate awaits, so callers interleave on it. A second transaction became a SAVEPOINT
 * inside the first, whose COMMIT then only released that savepoint: the first caller was told
 * "committed" while its rows waited for the second's COMMIT, and went with the second's ROLLBACK; a
 * plain statement of a third caller ran inside whichever transaction was open and shared its fate.
 * Callers take turns instead: a transaction (or a save, which opens one) holds the connection from
 * BEGIN to COMMIT, and a statement outside any transaction waits for the one running.
 */
export function takeTurnsOnSqlite(dataSource: DataSource): (runner: QueryRunner) => void {
  const turns = new Turns();
  const manager = dataSource.manager as unknown as Record<string, AsyncMethod>;
  for (const method of TRANSACTIONAL_METHODS) {
    const original = manager[method]!.bind(manager);
    manager[method] = (...args) => turns.run(() => original(...args));
  }
  return (runner) => {
    const target = runner as unknown as { query: AsyncMethod };
    const query = target.query.bind(runner);
    target.query = (...args) => turns.run(() => query(...args));
  };
}
