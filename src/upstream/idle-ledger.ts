// One cap on idle connections across every endpoint pool of an upstream: Kitex's long-pool maxIdleGlobal
// (kitex pkg/remote/connpool/long_pool.go: a connection given back while the global idle count is at the cap
// is closed instead of kept). The per-endpoint cap is the pool's own maxIdle.

/** Pools register how to count their idle connections; the sum is exact at the moment it is asked. */
export class IdleLedger {
  readonly limit: number;
  readonly #pools = new Map<object, () => number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  register(pool: object, idle: () => number): void {
    this.#pools.set(pool, idle);
  }

  forget(pool: object): void {
    this.#pools.delete(pool);
  }

  /** Idle connections over all registered pools now. */
  total(): number {
    let n = 0;
    for (const idle of this.#pools.values()) n += idle();
    return n;
  }

  /** True when more connections are idle than the cap allows (the one just given back included). */
  over(): boolean {
    return this.total() > this.limit;
  }
}
