import { z } from 'zod';

/**
 * What no name may hold, wherever people read it (console, logs, CSV exports, the audit log):
 * - control characters (`\p{Cc}`): NUL, which PostgreSQL cannot store in text, CR and LF, which forge
 *   log lines and CSV rows, tab, ESC (terminal escape sequences);
 * - format characters (`\p{Cf}`), which show a name other than the one stored: the bidirectional
 *   overrides and isolates (U+202E turns `exe.txt` into `txt.exe`), zero-width spaces, the byte order
 *   mark. Zero-width (non-)joiners stay allowed: emoji sequences and several scripts need them;
 * - line and paragraph separators (`\p{Zl}`, `\p{Zp}`), which are line breaks too;
 * - lone surrogates (`\p{Cs}`): not text at all, refused by PostgreSQL.
 */
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]|(?![\u200c\u200d])\p{Cf}/u;

/** Characters that draw nothing: a name made only of them looks empty. */
const BLANK = /^(?:[\s\u115f\u1160\u2800\u3164\uffa0]|\u200c|\u200d)*$/u;

/**
 * The one rule for every name a person gives (boxes, agents, providers, users, API keys, rollout
 * phases): spaces around it are dropped, it must show something, and it holds no control, format or
 * line-break character, even around it (see FORBIDDEN_IN_NAME). Used by every request schema that takes a name.
 */
export function nameSchema(maxLength = 100) {
  // Checked before the trim, so a line break or BOM around a name is refused rather than dropped.
  return (
    z
      .string()
      .refine((name) => !FORBIDDEN_IN_NAME.test(name), {
        message: 'must not hold control characters, line breaks or invisible formatting characters',
      })
      .trim()
      .min(1, 'must not be empty')
      .max(maxLength)
      // An empty name is min(1)'s to report, once.
      .refine((name) => name === '' || !BLANK.test(name), {
        message: 'must not be only spaces or invisible characters',
      })
  );
}

/** A name of up to 100 characters (see nameSchema). */
export const NameSchema = nameSchema(100);

/** Whether `name` satisfies the name rule, e.g. for a form field. */
export function isValidName(name: string, maxLength = 100): boolean {
  return nameSchema(maxLength).safeParse(name).success;
}

/** A box tag, also a target of assignments and rollouts: a printable ASCII word, so never ambiguous. */
export const TagSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'tags hold A-Z, a-z, 0-9, ".", "_", ":" and "-"');
