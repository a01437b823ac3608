/**
 * Reactions that another module registers on this one when it cannot be this one's dependency, because
 * it depends on this one (the broker on the device registry; the agents on devices and providers). The
 * reacting module registers in its onModuleInit; listeners run in registration order, each awaited.
 */
export class Listeners<A extends unknown[]> {
  private readonly listeners: Array<(...args: A) => Promise<unknown>> = [];

  add(listener: (...args: A) => Promise<unknown>): void {
    this.listeners.push(listener);
  }

  async notify(...args: A): Promise<void> {
    for (const listener of this.listeners) await listener(...args);
  }
}
