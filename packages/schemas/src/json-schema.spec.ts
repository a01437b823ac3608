import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  JSON_SCHEMA_DOCUMENTS,
  JSON_SCHEMA_OPTIONS,
  buildJsonSchemaDocuments,
  serializeJsonSchema,
} from '../scripts/json-schema-documents.mjs';
import * as schemas from './index.js';

const protocolDir = fileURLToPath(new URL('../../../docs/protocol/', import.meta.url));
const REGENERATE =
  'run: npm run build -w @agentbox/schemas && npm run export-json-schema -w @agentbox/schemas';

describe('docs/protocol/*.schema.json', () => {
  it('hold exactly one document per published schema', async () => {
    const files = (await readdir(protocolDir)).filter((file) => file.endsWith('.schema.json')).sort();

    expect(files, REGENERATE).toEqual(JSON_SCHEMA_DOCUMENTS.map(([name]) => `${name}.schema.json`).sort());
  });

  it.each(JSON_SCHEMA_DOCUMENTS)(
    '%s.schema.json is z.toJSONSchema(%s) of the current source',
    async (name, exportName, title) => {
      const schema = (schemas as Record<string, unknown>)[exportName];
      expect(schema, `@agentbox/schemas exports ${exportName}`).toBeInstanceOf(z.ZodType);
      const committed: unknown = JSON.parse(await readFile(`${protocolDir}${name}.schema.json`, 'utf8'));

      expect(committed, REGENERATE).toEqual({
        ...z.toJSONSchema(schema as z.ZodType, JSON_SCHEMA_OPTIONS),
        title,
      });
      expect(committed).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema' });
    },
  );

  it('are what the export script writes, byte for byte', async () => {
    for (const [file, document] of Object.entries(buildJsonSchemaDocuments(schemas))) {
      expect(await readFile(`${protocolDir}${file}`, 'utf8'), `${file}: ${REGENERATE}`).toBe(
        serializeJsonSchema(document),
      );
    }
  });

  it('describe what a receiver accepts: defaults optional, unknown fields allowed', async () => {
    const claim = JSON.parse(
      await readFile(`${protocolDir}claim-token-create-request.schema.json`, 'utf8'),
    ) as {
      required?: string[];
    };
    const status = JSON.parse(await readFile(`${protocolDir}status.schema.json`, 'utf8')) as Record<
      string,
      unknown
    >;

    expect(claim.required ?? []).not.toContain('ttlHours');
    expect(status).not.toHaveProperty('additionalProperties');
    expect(status).toMatchObject({ required: ['v', 'seq', 'ts', 'state'] });
  });
});
