import type { DesiredProvider } from '@agentbox/schemas';
import type { ProviderDirectory, ResolvedProvider } from '../agents.contracts.js';

/**
 * The model providers as the box holds them: API keys opened with the box's secrets key, in memory
 * only (the stored desired state keeps the sealed form). A provider whose key cannot be opened is
 * held as a problem instead, so the gateway treats it as unavailable and the report says why.
 */
export class BoxProviderDirectory implements ProviderDirectory {
  private readonly resolved = new Map<string, ResolvedProvider>();
  private readonly problems = new Map<string, string>();
  private readonly listeners = new Set<() => void>();

  get(providerId: string): ResolvedProvider | undefined {
    return this.resolved.get(providerId);
  }

  has(providerId: string): boolean {
    return this.resolved.has(providerId) || this.problems.has(providerId);
  }

  /** Why a provider cannot be used, or undefined when it can (or is unknown). */
  problem(providerId: string): string | undefined {
    return this.problems.get(providerId);
  }

  allProblems(): ReadonlyMap<string, string> {
    return this.problems;
  }

  /**
   * Takes a provider as delivered; `openKey` opens its sealed key. Returns the problem when the key
   * could not be opened.
   */
  set(
    provider: DesiredProvider,
    openKey: (sealed: NonNullable<DesiredProvider['apiKey']>) => string,
  ): string | undefined {
    let apiKey: string | undefined;
    if (provider.apiKey) {
      try {
        apiKey = openKey(provider.apiKey);
      } catch (error) {
        const problem =
          `provider ${provider.id} v${provider.version}: its API key could not be opened with this box's secrets key ` +
          `(${(error as Error).message}); the cloud must seal it again to the key of the box's latest birth message`;
        this.resolved.delete(provider.id);
        this.problems.set(provider.id, problem);
        this.changed();
        return problem;
      }
    }
    this.problems.delete(provider.id);
    this.resolved.set(provider.id, {
      id: provider.id,
      version: provider.version,
      baseUrl: provider.baseUrl,
      ...(apiKey === undefined ? {} : { apiKey }),
    });
    this.changed();
    return undefined;
  }

  remove(providerId: string): void {
    this.resolved.delete(providerId);
    this.problems.delete(providerId);
    this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
