import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { JSON_SCHEMA_DOCUMENTS } from '../scripts/json-schema-documents.mjs';
import * as schemas from './index.js';

/** docs/protocol.md is written by hand; these checks keep its facts tied to the code. */
const docsDir = fileURLToPath(new URL('../../../docs/', import.meta.url));
const doc = readFileSync(`${docsDir}protocol.md`, 'utf8');

const examples = [...doc.matchAll(/<!-- example: ([a-z-]+) -->\s*```json\n([\s\S]*?)\n```/g)].map(
  ([, name, json]) => ({
    name: name!,
    json: json!,
  }),
);

describe('docs/protocol.md', () => {
  it('has examples for every MQTT message', () => {
    const names = new Set(examples.map((example) => example.name));
    for (const name of [
      'status',
      'birth',
      'telemetry',
      'reported-state',
      'events',
      'command-result',
      'desired-state',
      'command',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it.each(examples.map((example, index) => [`${index + 1}: ${example.name}`, example] as const))(
    'example %s is valid against its schema',
    (_label, example) => {
      const entry = JSON_SCHEMA_DOCUMENTS.find(([name]) => name === example.name);
      expect(entry, `no published schema named ${example.name}`).toBeDefined();
      const schema = (schemas as Record<string, unknown>)[entry![1]] as z.ZodType;

      const decoded = schemas.decodePayload(schema, example.json);

      expect(decoded, example.json).toMatchObject({ ok: true });
      expect(decoded.ok && decoded.value).toEqual(JSON.parse(example.json));
    },
  );

  it('links only to schema documents that exist, and to all of them', () => {
    const links = new Set(
      [...doc.matchAll(/\]\((protocol\/[a-z-]+\.schema\.json)\)/g)].map(([, link]) => link!),
    );
    for (const link of links) expect(existsSync(`${docsDir}${link}`), link).toBe(true);
    for (const [name] of JSON_SCHEMA_DOCUMENTS) expect(links, name).toContain(`protocol/${name}.schema.json`);
  });

  it('lists every topic, rejection reason and pattern as the code has them', () => {
    // A table row starting with the cell, however the columns are padded.
    const row = (cell: string) => new RegExp(`^\\|\\s*${cell.replace(/[{}$/]/g, '\\$&')}\\s*\\|`, 'm');
    for (const channel of schemas.UP_CHANNELS) {
      expect(doc).toMatch(row(channel === 'results' ? '`up/results/{commandId}`' : `\`up/${channel}\``));
    }
    expect(doc).toMatch(row('`down/desired`'));
    expect(doc).toMatch(row('`down/commands/{commandId}`'));
    for (const reason of schemas.REJECTION_REASONS) expect(doc).toMatch(row(`\`${reason}\``));
    expect(doc).toContain(schemas.DEVICE_ID_PATTERN.source);
    expect(doc).toContain(schemas.METRIC_NAME_PATTERN.source);
    expect(doc).toContain(schemas.topics.sharedAllUpFilter());
    expect(doc).toContain(schemas.topics.allUpFilter());
    expect(doc).toContain(`${schemas.TOPIC_ROOT}/{deviceId}/`);
    expect(doc).toContain(
      `(${schemas.DEFAULT_MAX_PAYLOAD_BYTES.toLocaleString('en-US').replace(/,/g, ' ')} bytes`,
    );
  });
});
