import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { AppConfig } from './config/app-config.js';
import { buildOpenApiDocument } from './openapi.js';

/**
 * Writes openapi.json without a database or broker: preview mode resolves the module graph
 * but instantiates no provider, which is all the document needs.
 */
async function exportOpenApi(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentbox-openapi-'));
  try {
    const config = AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dataDir });
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot(config),
      new FastifyAdapter(),
      {
        preview: true,
        logger: false,
      },
    );
    const document = buildOpenApiDocument(app);
    const target = process.argv[2] ?? fileURLToPath(new URL('../openapi.json', import.meta.url));
    writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
    await app.close();
    process.stdout.write(`wrote ${target}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await exportOpenApi();
