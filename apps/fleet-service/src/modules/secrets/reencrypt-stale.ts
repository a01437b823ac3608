import type { FindOptionsWhere, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { SecretCipher } from './secret-cipher.js';

/** A column holding a ciphertext of SecretCipher (or null), and the additional data it is bound to. */
export interface SealedColumn<Row> {
  column: keyof Row & string;
  aad: (row: Row) => string;
}

/**
 * After an AGENTBOX_SECRETS_KEY rotation (docs/operations.md, "Provider secrets and key rotation"):
 * re-encrypts with the current key every row of `repository` whose sealed columns are not all sealed
 * with it; returns how many rows it rewrote. A row is rewritten only where it still holds the
 * ciphertexts read, so an edit made meanwhile (or another replica doing the same) is never overwritten.
 * A row that cannot be decrypted is reported to `unreadable` and left as it is.
 */
export async function reencryptStale<Row extends { id: string }>(
  repository: Repository<Row>,
  cipher: SecretCipher,
  columns: readonly SealedColumn<Row>[],
  unreadable: (row: Row, error: Error) => void,
): Promise<number> {
  let rotated = 0;
  for (const row of await repository.find()) {
    const sealed = columns.flatMap(({ column, aad }) => {
      const stored = row[column];
      return typeof stored === 'string' ? [{ column, aad, stored }] : [];
    });
    if (!sealed.some(({ stored }) => cipher.isStale(stored))) continue;
    let changes: Record<string, string>;
    try {
      changes = Object.fromEntries(
        sealed.map(({ column, aad, stored }) => [
          column,
          cipher.encrypt(cipher.decrypt(stored, aad(row)), aad(row)),
        ]),
      );
    } catch (error) {
      unreadable(row, error as Error);
      continue;
    }
    const where: Record<string, string> = { id: row.id };
    for (const { column, stored } of sealed) where[column] = stored;
    const result = await repository.update(
      where as FindOptionsWhere<Row>,
      changes as unknown as QueryDeepPartialEntity<Row>,
    );
    rotated += result.affected ?? 0;
  }
  return rotated;
}
