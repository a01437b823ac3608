import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_POSTGRES_URL } from '@agentbox/test-support';

/**
 * A PostgreSQL database of its own on the machine's server, for a test that takes the database away:
 * refusing connections to the shared `test` database would break every other test on the machine.
 */
export class PrivateDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  static async create(prefix = 'agentbox_fault'): Promise<PrivateDatabase> {
    const name = `${prefix}_${randomBytes(6).toString('hex')}`;
    await admin((client) => client.query(`CREATE DATABASE "${name}"`));
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/${name}`;
    return new PrivateDatabase(name, url.toString());
  }

  /**
   * An outage as an operator or a failover makes it: no new connection is let in, and every open one is
   * ended (`pg_terminate_backend`), so every query fails until `allowConnections`.
   */
  async refuseConnections(): Promise<void> {
    await admin(async (client) => {
      await client.query(`ALTER DATABASE "${this.name}" ALLOW_CONNECTIONS false`);
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [this.name],
      );
    });
  }

  async allowConnections(): Promise<void> {
    await admin((client) => client.query(`ALTER DATABASE "${this.name}" ALLOW_CONNECTIONS true`));
  }

  async drop(): Promise<void> {
    await admin((client) => client.query(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`));
  }
}

/** Runs `work` on a connection to the machine's `test` database (never the one it changes). */
async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
