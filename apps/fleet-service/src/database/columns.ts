import {
  Column,
  PrimaryColumn,
  type ColumnOptions,
  type PrimaryColumnOptions,
  type ValueTransformer,
} from 'typeorm';
import { jsonTransformer } from './json-column.js';

/** PostgreSQL hands bigint back as a string; every value stored here is below 2^53. */
export const bigintNumber: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
};

/** What a column may add to its type; the name defaults to the property's name in snake_case. */
export interface ColumnExtras {
  name?: string;
  nullable?: true;
  unique?: true;
  default?: string | number | boolean;
  /** false: loaded only when a query asks for it by name (secrets). */
  select?: false;
}

const snakeCase = (property: string) => property.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * The column decorators entities use, one per portable type, so an entity reads as a list of
 * `@Varchar(64) deviceId!: string;` (the physical types per driver are the migrations' business).
 */
function column(type: ColumnOptions, extras: ColumnExtras = {}, primary = false): PropertyDecorator {
  return (target, propertyKey) => {
    const property = String(propertyKey);
    const { name = snakeCase(property), ...rest } = extras;
    const options: ColumnOptions = { ...type, ...rest, ...(name === property ? {} : { name }) };
    (primary ? PrimaryColumn(options as PrimaryColumnOptions) : Column(options))(target, propertyKey);
  };
}

export const Varchar = (length: number, extras?: ColumnExtras) => column({ type: 'varchar', length }, extras);
export const PrimaryVarchar = (length: number, extras?: ColumnExtras) =>
  column({ type: 'varchar', length }, extras, true);
export const Text = (extras?: ColumnExtras) => column({ type: 'text' }, extras);
export const Int = (extras?: ColumnExtras) => column({ type: 'integer' }, extras);
export const PrimaryInt = (extras?: ColumnExtras) => column({ type: 'integer' }, extras, true);
/** A bigint read back as a number (epoch milliseconds, counters). */
export const Int64 = (extras?: ColumnExtras) => column({ type: 'bigint', transformer: bigintNumber }, extras);
export const PrimaryInt64 = (extras?: ColumnExtras) =>
  column({ type: 'bigint', transformer: bigintNumber }, extras, true);
/** JSON text on SQLite, jsonb on PostgreSQL (see json-column.ts). */
export const Json = (extras?: ColumnExtras) => column({ type: 'text', transformer: jsonTransformer }, extras);
export const Timestamp = (extras?: ColumnExtras) => column({ type: Date }, extras);
