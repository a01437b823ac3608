/** One byte range of a file, inclusive bounds, as answered with 206 Partial Content. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a `Range` header against a file of `size` bytes (RFC 9110 14.1.2). Returns null when the whole
 * file should be sent (no header, another unit, or several ranges, which this server does not combine),
 * 'unsatisfiable' for a range that lies outside the file (416), else the single range.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) {
    // A multi-range or malformed header may be ignored: the full representation is a correct answer.
    return /^\s*bytes\s*=/i.test(header) && !header.includes(',') ? 'unsatisfiable' : null;
  }
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return 'unsatisfiable';
  if (first === '') {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return 'unsatisfiable';
  return { start, end };
}
