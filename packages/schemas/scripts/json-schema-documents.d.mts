import type { z } from 'zod';

export declare const JSON_SCHEMA_OPTIONS: { target: 'draft-2020-12'; io: 'input' };
export declare const JSON_SCHEMA_DOCUMENTS: ReadonlyArray<
  readonly [name: string, exportName: string, title: string]
>;
export declare function buildJsonSchemaDocuments(
  schemas: Record<string, unknown>,
): Record<string, z.core.JSONSchema.BaseSchema>;
export declare function serializeJsonSchema(document: unknown): string;
