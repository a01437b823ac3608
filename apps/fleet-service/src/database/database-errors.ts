/**
 * SQLite result codes that say the database could not write now, whatever was written: the disk is full,
 * the file could not be read or written, the file is locked or opened read-only, memory ran out
 * (https://www.sqlite.org/rescode.html). Extended codes (SQLITE_IOERR_WRITE, ...) start with these.
 */
const SQLITE_STORE_FAULTS = [
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_NOMEM',
  'SQLITE_PROTOCOL',
];

/**
 * PostgreSQL SQLSTATE classes and codes of the same kind (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * 08 connection exception, 53 insufficient resources (disk full, out of memory, too many connections),
 * 57 operator intervention (admin shutdown, cannot connect now, database dropped), 58 system error (I/O);
 * serialization failure, deadlock, lock not available, read-only transaction.
 */
const POSTGRES_FAULT_CLASSES = ['08', '53', '57', '58'];
const POSTGRES_FAULT_CODES = ['40001', '40P01', '55P03', '25006'];

/** Errors of the socket to PostgreSQL, which carry a Node.js code or none at all. */
const CONNECTION_FAULT =
  /ECONN|ETIMEDOUT|EPIPE|EHOSTUNREACH|Connection terminated|timeout exceeded|not queryable/i;

/**
 * Whether a failed write failed because of the database (away, full, read-only, locked) rather than
 * because of what was written: such a write is kept and tried again, never dropped (docs/protocol.md,
 * "Acknowledged means stored"). TypeORM wraps the driver's error in `driverError`.
 */
export function isStoreFault(error: unknown): boolean {
  const candidates = [error, (error as { driverError?: unknown } | null)?.driverError];
  return candidates.some((candidate) => {
    if (candidate === null || typeof candidate !== 'object') return false;
    const code = (candidate as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (SQLITE_STORE_FAULTS.some((fault) => code.startsWith(fault))) return true;
      if (/^[0-9A-Z]{5}$/.test(code)) {
        return POSTGRES_FAULT_CLASSES.includes(code.slice(0, 2)) || POSTGRES_FAULT_CODES.includes(code);
      }
    }
    const message = (candidate as { message?: unknown }).message;
    return (
      (typeof code === 'string' && CONNECTION_FAULT.test(code)) ||
      (typeof message === 'string' && CONNECTION_FAULT.test(message))
    );
  });
}
