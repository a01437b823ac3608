import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AgentDefinition } from '@agentbox/schemas';
import { jsonTransformer } from '../../database/json-column.js';

/** An agent at its latest version. */
@Entity('agents')
export class AgentRow {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  id!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'text', transformer: jsonTransformer })
  definition!: AgentDefinition;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}

/** Every version an agent has had (the latest one too). */
@Entity('agent_versions')
export class AgentVersionRow {
  @PrimaryColumn({ name: 'agent_id', type: 'varchar', length: 63 })
  agentId!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @Column({ type: 'text', transformer: jsonTransformer })
  definition!: AgentDefinition;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
