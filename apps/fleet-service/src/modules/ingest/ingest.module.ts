import { Module } from '@nestjs/common';

/** Placeholder until the ingest module lands. */
@Module({})
export class IngestModule {}
