import { Inject, Injectable } from '@nestjs/common';
import { type Readiness } from '@agentbox/schemas';
import { BROKER, type BrokerPort } from '../../common/ports.js';
import { DatabaseProbe } from '../../database/database-probe.js';

@Injectable()
export class HealthService {
  constructor(
    private readonly database: DatabaseProbe,
    @Inject(BROKER) private readonly broker: BrokerPort,
  ) {}

  async readiness(): Promise<Readiness> {
    const [database, broker] = await Promise.all([
      this.database.writable(),
      Promise.resolve(this.brokerUp()),
    ]);
    const checks = { database: database ? 'up' : 'down', broker: broker ? 'up' : 'down' } as const;
    return { status: database && broker ? 'ok' : 'unavailable', checks };
  }

  private brokerUp(): boolean {
    try {
      return this.broker.isReady();
    } catch {
      return false;
    }
  }
}
