/** The message of a thrown value, for logs and run records (a non-Error is stringified). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
