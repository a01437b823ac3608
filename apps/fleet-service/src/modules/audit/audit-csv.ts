/**
 * RFC 4180 CSV for the audit export. Spreadsheets run a cell starting with = + - @ (or a tab or carriage
 * return, which some strip first) as a formula, and audit cells hold names and ids that users chose, so
 * such cells get a leading apostrophe: shown as text, never evaluated.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV line, CRLF-terminated as RFC 4180 asks. */
export function csvRow(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
