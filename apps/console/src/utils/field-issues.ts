/** Problems of a form's fields, from the zod issues of the shared request schemas. */

/** One problem with one field, ready to translate (`validation.<kind>` with `params`). */
export interface FieldIssue {
  /** Dotted path in the form: `id`, `name`, `tools.0.allowHosts.1`, `triggers.2.expression`. */
  path: string;
  kind: string;
  params: Record<string, string | number>;
  /** The schema's own text, shown when no translation fits. */
  message: string;
}

export interface IssueLike {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  format?: string;
  expected?: string;
  input?: unknown;
}

/** Sorts a zod issue into a kind the console translates; `path` is already the form path. */
export function classifyIssue(issue: IssueLike, path: string): FieldIssue {
  const last = path.split('.').at(-1) ?? '';
  const base = { path, message: issue.message, params: {} as Record<string, string | number> };
  const limit = (value: number | bigint | undefined) => Number(value ?? 0);
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string') {
        return limit(issue.minimum) <= 1
          ? { ...base, kind: 'required' }
          : { ...base, kind: 'minLength', params: { min: limit(issue.minimum) } };
      }
      if (issue.origin === 'array')
        return { ...base, kind: 'minItems', params: { min: limit(issue.minimum) } };
      return { ...base, kind: 'min', params: { min: limit(issue.minimum) } };
    case 'too_big':
      if (issue.origin === 'string')
        return { ...base, kind: 'maxLength', params: { max: limit(issue.maximum) } };
      if (issue.origin === 'array')
        return { ...base, kind: 'maxItems', params: { max: limit(issue.maximum) } };
      return { ...base, kind: 'max', params: { max: limit(issue.maximum) } };
    case 'invalid_type':
      if (issue.input === undefined || issue.input === null || issue.input === '')
        return { ...base, kind: 'required' };
      if (issue.expected === 'int') return { ...base, kind: 'integer' };
      return { ...base, kind: 'invalid' };
    case 'invalid_format':
      if (last === 'id' || last === 'provider') return { ...base, kind: 'slug' };
      if (path.includes('allowHosts')) return { ...base, kind: 'host' };
      if (issue.format === 'url' || last === 'baseUrl') return { ...base, kind: 'url' };
      return { ...base, kind: 'invalid' };
    case 'custom':
      if (last === 'tools') return { ...base, kind: 'toolOnce' };
      return { ...base, kind: 'invalid' };
    default:
      return { ...base, kind: 'invalid' };
  }
}

/** The issues of one field: its own path or anything below it (`allowHosts` shows `allowHosts.2`). */
export function issuesAt(issues: readonly FieldIssue[], path: string): FieldIssue[] {
  return issues.filter((issue) => issue.path === path || issue.path.startsWith(`${path}.`));
}

/** The schema's issues as field issues; `path` turns an issue's path into the form's (default: as is). */
export function fieldIssues(
  issues: readonly IssueLike[],
  path: (issuePath: string[]) => string = (parts) => parts.join('.'),
): FieldIssue[] {
  return issues.map((issue) => classifyIssue(issue, path(issue.path.map(String))));
}
