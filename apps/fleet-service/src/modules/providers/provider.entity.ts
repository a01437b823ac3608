import { Entity } from 'typeorm';
import { Int, Json, PrimaryVarchar, Text, Timestamp, Varchar } from '../../database/columns.js';

/** A model provider; the API key is stored only encrypted (SecretCipher), never in plain text. */
@Entity('providers')
export class ProviderRow {
  @PrimaryVarchar(63) id!: string;
  @Varchar(100) name!: string;
  @Varchar(32) kind!: 'openai-compatible';
  @Varchar(2000) baseUrl!: string;
  @Json() models!: string[];
  @Int() version!: number;

  /** `v1:{keyId}:{iv}:{ct}:{tag}` (see SecretCipher), or null when the provider needs no key. */
  @Text({ nullable: true }) apiKey!: string | null;

  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}
