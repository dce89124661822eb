// A lean event emitter for streams: the subset of node's EventEmitter that the H2Stream port uses
// (on/once/off/emit). A listener that throws does not break the session's state machine: the
// exception is rethrown from a microtask, where it surfaces as an uncaught error like node's would.

type Fn = (...args: never[]) => void;
type Call = (...args: unknown[]) => void;

/** A once-listener: the wrapper remembers what it wraps so off() can find it. */
interface OnceWrapper extends Call {
  listener: Fn;
}

export class Emitter {
  #events: Record<string, Call[] | undefined> = Object.create(null) as Record<string, Call[] | undefined>;

  on(event: string, fn: Fn): this {
    const list = this.#events[event];
    if (list) list.push(fn as Call);
    else this.#events[event] = [fn as Call];
    return this;
  }

  once(event: string, fn: Fn): this {
    const wrapper = ((...args: unknown[]) => {
      this.off(event, fn);
      (fn as Call)(...args);
    }) as OnceWrapper;
    wrapper.listener = fn;
    return this.on(event, wrapper as Fn);
  }

  off(event: string, fn: Fn): this {
    const list = this.#events[event];
    if (!list) return this;
    const i = list.findIndex((l) => l === fn || (l as OnceWrapper).listener === fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount(event: string): number {
    return this.#events[event]?.length ?? 0;
  }

  protected emit(event: string, a?: unknown, b?: unknown): void {
    const list = this.#events[event];
    if (!list || list.length === 0) return;
    if (list.length === 1) {
      call(list[0]!, a, b);
      return;
    }
    for (const fn of list.slice()) call(fn, a, b);
  }
}

function call(fn: Call, a: unknown, b: unknown): void {
  try {
    fn(a, b);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
