/**
 * Audit details are read by every operator and exported as CSV, so no secret may reach them: a field
 * named like a secret (password, apiKey, claimToken, authorization...) is replaced whatever it holds,
 * and so is any string shaped like one of the service's credentials wherever it appears.
 */
export const REDACTED = '[redacted]';

const SECRET_KEY =
  /(pass(word|phrase)?|secret|token|api[-_]?key|private[-_]?key|authorization|cookie|credentials?)$/i;

/** API keys, claim tokens, hook secrets, JWTs, bearer headers and PEM blocks. */
const SECRET_VALUE = /^(abk_|abct_|abh_|bearer\s|eyJ[\w-]+\.[\w-]+|-----BEGIN )/i;

/**
 * Robot and webhook URLs carry their credential in the query (DingTalk `access_token`, WeCom `key`) or
 * after a hook segment of the path (Feishu `/hook/<id>`, Slack `/services/T…/B…/<secret>`).
 */
const URL_VALUE = /^https?:\/\//i;
const HOOK_SEGMENT = /^(hooks?|services|webhooks?)$/i;

function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  const segments = url.pathname.split('/');
  const hook = segments.findIndex((segment) => HOOK_SEGMENT.test(segment));
  const hidesPath = hook >= 0 && hook < segments.length - 1;
  if (!hidesPath && url.search === '') return value;
  const path = hidesPath ? `${segments.slice(0, hook + 1).join('/')}/${REDACTED}` : url.pathname;
  return `${url.protocol}//${url.host}${path}${url.search ? `?${REDACTED}` : ''}`;
}

/** Objects nested deeper than this are cut: details are a summary, not a copy of the request. */
const MAX_DEPTH = 6;

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    if (SECRET_VALUE.test(value)) return REDACTED;
    return URL_VALUE.test(value) ? redactUrl(value) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // Flags such as hasApiKey or a token budget tell nothing secret; strings and objects might.
    const hidesSecret = SECRET_KEY.test(key) && item !== null && typeof item !== 'boolean';
    out[key] = hidesSecret && typeof item !== 'number' ? REDACTED : redactSecrets(item, depth + 1);
  }
  return out;
}
