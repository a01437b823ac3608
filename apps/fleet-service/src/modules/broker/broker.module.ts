import { Module } from '@nestjs/common';

/** Placeholder until the broker module lands: provides BROKER (see common/ports.ts). */
@Module({})
export class BrokerModule {}
