/**
 * Runs work one at a time per key, in call order; different keys run concurrently. A failed piece of
 * work fails only its own caller: the next one for the key still runs.
 */
export class SerialByKey {
  private readonly chains = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }

  /** Resolves once every piece of work handed in so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }
}
