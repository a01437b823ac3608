import { Entity } from 'typeorm';
import type { RunEvent } from '@agentbox/schemas';
import { Int, Int64, Json, PrimaryInt, PrimaryVarchar, Text, Varchar } from '../../database/columns.js';

/** One step of a run; (runId, idx) keeps each step once however often the box resends it. */
@Entity('run_events')
export class RunEventRow {
  @PrimaryVarchar(64) runId!: string;
  @PrimaryInt() idx!: number;
  @Varchar(64) deviceId!: string;
  @Varchar(63) agentId!: string;
  @Int64() ts!: number;
  @Varchar(16) type!: RunEvent['type'];
  @Varchar(200, { nullable: true }) name!: string | null;
  @Json({ nullable: true }) data!: unknown;
  @Int({ nullable: true }) inputTokens!: number | null;
  @Int({ nullable: true }) outputTokens!: number | null;
  @Int({ nullable: true }) durationMs!: number | null;
  @Text({ nullable: true }) error!: string | null;
}
