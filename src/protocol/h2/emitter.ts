// A lean event emitter for streams: the subset of node's EventEmitter that the H2Stream port uses
// (on/once/off/emit). A listener that throws does not break the session's state machine: the
// exception is rethrown from a microtask, where it surfaces as an uncaught error like node's would.

type Fn = (...args: never[]) => void;

interface Entry {
  fn: Fn;
  once: boolean;
}

export class Emitter {
  #events = new Map<string, Entry[]>();

  on(event: string, fn: Fn): this {
    const list = this.#events.get(event);
    if (list) list.push({ fn, once: false });
    else this.#events.set(event, [{ fn, once: false }]);
    return this;
  }

  once(event: string, fn: Fn): this {
    const list = this.#events.get(event);
    if (list) list.push({ fn, once: true });
    else this.#events.set(event, [{ fn, once: true }]);
    return this;
  }

  off(event: string, fn: Fn): this {
    const list = this.#events.get(event);
    if (!list) return this;
    const i = list.findIndex((e) => e.fn === fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount(event: string): number {
    return this.#events.get(event)?.length ?? 0;
  }

  protected emit(event: string, ...args: unknown[]): void {
    const list = this.#events.get(event);
    if (!list || list.length === 0) return;
    // Copy only when a once-listener is there (removal during iteration); the common case is one listener.
    const entries = list.length === 1 ? [list[0]!] : list.slice();
    for (const e of entries) {
      if (e.once) {
        const i = list.indexOf(e);
        if (i < 0) continue;
        list.splice(i, 1);
      }
      try {
        (e.fn as (...a: unknown[]) => void)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
