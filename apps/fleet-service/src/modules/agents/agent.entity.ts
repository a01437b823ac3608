import { Entity } from 'typeorm';
import type { AgentDefinition } from '@agentbox/schemas';
import { Int, Json, PrimaryInt, PrimaryVarchar, Timestamp } from '../../database/columns.js';

/** An agent at its latest version. */
@Entity('agents')
export class AgentRow {
  @PrimaryVarchar(63) id!: string;
  @Int() version!: number;
  @Json() definition!: AgentDefinition;
  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}

/** Every version an agent has had (the latest one too). */
@Entity('agent_versions')
export class AgentVersionRow {
  @PrimaryVarchar(63) agentId!: string;
  @PrimaryInt() version!: number;
  @Json() definition!: AgentDefinition;
  @Timestamp() createdAt!: Date;
}
