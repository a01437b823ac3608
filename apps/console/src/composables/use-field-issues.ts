import { computed, inject, provide, ref, type ComputedRef, type InjectionKey, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { issuesAt, type FieldIssue } from '@/utils/field-issues';

export interface FieldIssues {
  issues: Ref<FieldIssue[]>;
  hasIssues: ComputedRef<boolean>;
  /** The translated text of a field's first problem, for an n-form-item's feedback. */
  feedback: (this: void, path: string) => string | undefined;
  status: (this: void, path: string) => 'error' | undefined;
  /** The translated text of every problem at or below `path`, each once. */
  messages: (this: void, path: string) => string[];
}

const FIELD_ISSUES: InjectionKey<FieldIssues> = Symbol('field issues');

/**
 * Field errors from the shared schemas, in the current language; the form's FormFields below the
 * component that calls this show them.
 */
export function useFieldIssues(): FieldIssues {
  const i18n = useI18n();
  const issues = ref<FieldIssue[]>([]);

  function text(issue: FieldIssue): string {
    const key = `validation.${issue.kind}`;
    if (issue.kind === 'invalid' || !i18n.te(key)) return issue.message;
    return i18n.t(key, issue.params);
  }

  const fields: FieldIssues = {
    issues,
    hasIssues: computed(() => issues.value.length > 0),
    feedback: (path) => {
      const first = issuesAt(issues.value, path)[0];
      return first ? text(first) : undefined;
    },
    status: (path) => (issuesAt(issues.value, path).length > 0 ? 'error' : undefined),
    messages: (path) => [...new Set(issuesAt(issues.value, path).map(text))],
  };
  provide(FIELD_ISSUES, fields);
  return fields;
}

/** The field issues of the form this component is part of. */
export function injectFieldIssues(): FieldIssues {
  const fields = inject(FIELD_ISSUES);
  if (!fields) throw new Error('a FormField needs a form that called useFieldIssues()');
  return fields;
}
