import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type Readiness } from '@agentbox/schemas';
import { BROKER, type BrokerPort } from '../../common/ports.js';

const DATABASE_CHECK_TIMEOUT_MS = 2_000;

@Injectable()
export class HealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(BROKER) private readonly broker: BrokerPort,
  ) {}

  async readiness(): Promise<Readiness> {
    const [database, broker] = await Promise.all([this.databaseUp(), Promise.resolve(this.brokerUp())]);
    const checks = { database: database ? 'up' : 'down', broker: broker ? 'up' : 'down' } as const;
    return { status: database && broker ? 'ok' : 'unavailable', checks };
  }

  private async databaseUp(): Promise<boolean> {
    if (!this.dataSource.isInitialized) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), DATABASE_CHECK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.dataSource.query('SELECT 1').then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private brokerUp(): boolean {
    try {
      return this.broker.isReady();
    } catch {
      return false;
    }
  }
}
