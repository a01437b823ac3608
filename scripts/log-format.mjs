// Turns the services' JSON log lines into short human lines for `npm start`.
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const NOISY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);
const MIN_LEVEL = Number(process.env.AGENTBOX_START_LOG_LEVEL ?? 30);

export function formatLogLine(name, line) {
  if (!line.trim()) return null;
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return `[${name}] ${line}`;
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.level !== 'number')
    return `[${name}] ${line}`;
  if (entry.level < MIN_LEVEL) return null;
  // Nest's module-by-module boot chatter adds nothing for a person watching `npm start`.
  if (entry.level < 40 && NOISY_CONTEXTS.has(entry.context)) return null;
  const time = new Date(entry.time ?? Date.now()).toISOString().slice(11, 19);
  const context = entry.context ? ` (${entry.context})` : '';
  const error = entry.err?.message ? ` — ${entry.err.message}` : '';
  return `[${name}] ${time} ${LEVELS[entry.level] ?? entry.level} ${entry.msg ?? ''}${context}${error}`;
}
