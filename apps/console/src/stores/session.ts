import { getActivePinia, type Pinia, type StoreDefinition, type StoreGeneric } from 'pinia';
import { resetStores } from './store-plumbing';

/**
 * Every store module beside this one, found by file name so that no list of stores is kept by hand. They
 * are loaded with the shell, so a store that no page has used yet still takes its live events.
 */
const modules = import.meta.glob<Record<string, unknown>>(['./*.ts', '!./*.spec.ts', '!./session.ts'], {
  eager: true,
});

function isStoreDefinition(value: unknown): value is StoreDefinition {
  return typeof value === 'function' && typeof (value as { $id?: unknown }).$id === 'string';
}

const definitions = Object.values(modules).flatMap((module) =>
  Object.values(module).filter(isStoreDefinition),
);

/** Every store of the console in `pinia` (the active one by default), created where not used yet. */
export function sessionStores(pinia: Pinia | undefined = getActivePinia()): StoreGeneric[] {
  return definitions.map((useStore) => useStore(pinia) as StoreGeneric);
}

/** Forgets everything the signed-in user loaded, so the next user starts clean. */
export function resetSessionStores(pinia?: Pinia): void {
  resetStores(sessionStores(pinia));
}
