import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonTransformer } from '../../database/json-column.js';

/** A model provider; the API key is stored only encrypted (SecretCipher), never in plain text. */
@Entity('providers')
export class ProviderRow {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: 'openai-compatible';

  @Column({ name: 'base_url', type: 'varchar', length: 2000 })
  baseUrl!: string;

  @Column({ type: 'text', transformer: jsonTransformer })
  models!: string[];

  @Column({ type: 'integer' })
  version!: number;

  /** `v1:{keyId}:{iv}:{ct}:{tag}` (see SecretCipher), or null when the provider needs no key. */
  @Column({ name: 'api_key', type: 'text', nullable: true })
  apiKey!: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
