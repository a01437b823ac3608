/**
 * Names a request's audit entry after its route, so a route added tomorrow is audited like the others
 * without declaring anything: `POST /api/v1/providers` is `provider.created` on target type `provider`,
 * `POST /api/v1/rollouts/:id/pause` is `rollout.pause` on that rollout, `PUT /api/v1/devices/:id/desired`
 * is `device.desired.updated`, `POST /api/v1/auth/login` is `auth.login`.
 */
export interface RouteAudit {
  action: string;
  targetType: string;
}

const METHOD_VERBS: Record<string, string> = {
  POST: 'created',
  PUT: 'updated',
  PATCH: 'updated',
  DELETE: 'deleted',
};

/** `claim-tokens` -> `claim-token`, `policies` -> `policy`; a word not in the plural stays as it is. */
function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

const isPlural = (word: string) => singular(word) !== word;

/** The segments of a route pattern below its API prefix (`/api/v1`). */
function resourceSegments(pattern: string): string[] {
  const segments = pattern.split('/').filter((segment) => segment !== '');
  if (segments[0] === 'api') segments.shift();
  if (segments[0] !== undefined && /^v\d+$/.test(segments[0])) segments.shift();
  return segments;
}

export function describeRoute(method: string, pattern: string): RouteAudit {
  const segments = resourceSegments(pattern);
  const firstParam = segments.findIndex((segment) => segment.startsWith(':'));
  const head = firstParam < 0 ? segments : segments.slice(0, firstParam);
  const tail = firstParam < 0 ? [] : segments.slice(firstParam + 1).filter((s) => !s.startsWith(':'));
  const last = head[head.length - 1];
  if (last === undefined) return { action: `root.${verbOf(method)}`, targetType: 'root' };
  // `auth/login`, `provision`: a POST to a name that is no collection is an action, not a creation.
  if (firstParam < 0 && method === 'POST' && !isPlural(last)) {
    const owner = head.length > 1 ? head.slice(0, -1) : head;
    return { action: head.join('.'), targetType: owner.map(singular).join('-') };
  }
  const targetType = [...head.slice(0, -1), singular(last)].join('-');
  const sub = tail.join('-');
  if (sub === '') return { action: `${targetType}.${verbOf(method)}`, targetType };
  return {
    action: method === 'POST' ? `${targetType}.${sub}` : `${targetType}.${sub}.${verbOf(method)}`,
    targetType,
  };
}

function verbOf(method: string): string {
  return METHOD_VERBS[method] ?? 'read';
}
