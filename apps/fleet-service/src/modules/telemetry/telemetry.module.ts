import { Module } from '@nestjs/common';

/** Placeholder until the telemetry storage module lands. */
@Module({})
export class TelemetryModule {}
