import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';

/** Paths the SPA fallback never answers: they belong to the API and the operational endpoints. */
const RESERVED_PREFIXES = ['/api/', '/metrics', '/healthz', '/readyz'];

export const CONSOLE_NOT_BUILT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AgentBox</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>AgentBox fleet service</h1>
<p>The console is not built yet. Run <code>npm run build</code> at the repository root, then reload.</p>
<p>The API is up: see <a href="/api/docs">/api/docs</a>.</p>
</body></html>
`;

/** Resolves the built console (apps/console/dist next to this service unless AGENTBOX_CONSOLE_DIR is set). */
export function resolveConsoleDir(config: AppConfig): string {
  if (config.consoleDir) return resolve(config.consoleDir);
  // src/modules/console and dist/modules/console sit at the same depth under the package.
  return fileURLToPath(new URL('../../../../console/dist', import.meta.url));
}

@Injectable()
export class ConsoleService {
  readonly dir: string;

  constructor(config: AppConfig) {
    this.dir = resolveConsoleDir(config);
  }

  isReserved(path: string): boolean {
    return path === '/api' || RESERVED_PREFIXES.some((prefix) => path.startsWith(prefix));
  }

  /** index.html of the built console, or a page saying how to build it. */
  async indexHtml(): Promise<string> {
    const index = join(this.dir, 'index.html');
    if (!existsSync(index)) return CONSOLE_NOT_BUILT_HTML;
    return readFile(index, 'utf8');
  }
}
