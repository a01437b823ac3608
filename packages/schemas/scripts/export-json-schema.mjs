// Writes one JSON Schema (draft 2020-12) per wire message into <repo>/docs/protocol/.
// Run after building the package: npm run build -w @agentbox/schemas && npm run export-json-schema -w @agentbox/schemas
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as schemas from '../dist/index.js';
import { buildJsonSchemaDocuments, serializeJsonSchema } from './json-schema-documents.mjs';

const outDir = fileURLToPath(new URL('../../../docs/protocol/', import.meta.url));
const documents = buildJsonSchemaDocuments(schemas);

await mkdir(outDir, { recursive: true });
// Documents of schemas that no longer exist must not linger next to the current ones.
for (const file of await readdir(outDir)) {
  if (file.endsWith('.schema.json') && !(file in documents)) {
    await rm(new URL(file, `file://${outDir}`));
    console.log(`removed ${file}`);
  }
}
for (const [file, document] of Object.entries(documents)) {
  await writeFile(`${outDir}${file}`, serializeJsonSchema(document));
}
console.log(`wrote ${Object.keys(documents).length} JSON Schema documents to ${outDir}`);
