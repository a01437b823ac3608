import { describe, expect, it } from 'vitest';
import { QueryFailedError } from 'typeorm';
import { isStoreFault } from './database-errors.js';

const failed = (driverError: Error & { code?: string }) => new QueryFailedError('COMMIT', [], driverError);
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isStoreFault', () => {
  it('takes a full disk, I/O errors, locks and read-only files of SQLite as the store', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_BUSY', 'SQLITE_READONLY_DBMOVED']) {
      expect(isStoreFault(failed(withCode('x', code)))).toBe(true);
    }
  });

  it('takes connection, resource and operator errors of PostgreSQL as the store', () => {
    for (const code of ['08006', '53100', '57P01', '57P03', '58030', '40001', '25006']) {
      expect(isStoreFault(failed(withCode('x', code)))).toBe(true);
    }
    expect(isStoreFault(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStoreFault(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
  });

  it('takes what is wrong with the data itself as the batch', () => {
    expect(isStoreFault(failed(withCode('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE')))).toBe(
      false,
    );
    expect(isStoreFault(failed(withCode('invalid input syntax', '22P02')))).toBe(false);
    expect(isStoreFault(failed(withCode('violates foreign key', '23503')))).toBe(false);
    expect(isStoreFault(new TypeError('cannot read properties of undefined'))).toBe(false);
  });
});
