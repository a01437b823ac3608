/**
 * The commands the console shows once a hook is created or its secret rotated: a call with the secret
 * as a bearer token, and one signed with HMAC-SHA256 (docs/protocol.md, "Hooks"). They are plain POSIX
 * shell with curl and openssl, and e2e/tests/hooks.e2e.spec.ts runs them exactly as shown.
 */

/** The example body the commands send. */
export const EXAMPLE_HOOK_BODY = '{"text":"Hello from a webhook"}';

/** Single-quoted for the shell (a quote inside becomes '\''). */
function quoted(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `curl` with `Authorization: Bearer <secret>`, waiting up to 30 s for the agent's answer. */
export function hookBearerCommand(url: string, secret: string, body = EXAMPLE_HOOK_BODY): string {
  return [
    `curl -sS -X POST ${quoted(`${url}?wait=30`)} \\`,
    `  -H ${quoted(`Authorization: Bearer ${secret}`)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${quoted(body)}`,
  ].join('\n');
}

/**
 * The body signed with the secret: `X-AgentBox-Signature: sha256=<hex HMAC-SHA256 of "<unix seconds>.<body>">`
 * and the same seconds in `X-AgentBox-Timestamp` (valid for 5 minutes, once).
 */
export function hookSignedCommand(url: string, secret: string, body = EXAMPLE_HOOK_BODY): string {
  return [
    `SECRET=${quoted(secret)}`,
    `BODY=${quoted(body)}`,
    'TS=$(date +%s)',
    `SIG=$(printf '%s' "$TS.$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    `curl -sS -X POST ${quoted(`${url}?wait=30`)} \\`,
    `  -H "X-AgentBox-Timestamp: $TS" \\`,
    `  -H "X-AgentBox-Signature: sha256=$SIG" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d "$BODY"`,
  ].join('\n');
}
