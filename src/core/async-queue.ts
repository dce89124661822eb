/**
 * A single-consumer async queue with a high-water mark: the producer is told
 * when to pause (push returns false) and gets onResume when the consumer has
 * drained it. This is how upstream flow control reaches a slow HTTP client.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #head = 0;
  #done = false;
  #error: unknown = undefined;
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  readonly #highWater: number;
  readonly #onResume: (() => void) | undefined;
  readonly #onCancel: ((reason: unknown) => void) | undefined;
  #paused = false;

  constructor(options: { highWater?: number; onResume?: () => void; onCancel?: (reason: unknown) => void } = {}) {
    this.#highWater = options.highWater ?? 16;
    this.#onResume = options.onResume;
    this.#onCancel = options.onCancel;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get finished(): boolean {
    return this.#done;
  }

  /** Returns false when the producer should pause until onResume. */
  push(item: T): boolean {
    if (this.#done) return false;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve({ value: item, done: false });
      return true;
    }
    this.#items.push(item);
    if (this.size >= this.#highWater) {
      this.#paused = true;
      return false;
    }
    return true;
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#settleWaiter();
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error ?? new Error("stream failed");
    this.#settleWaiter();
  }

  #settleWaiter(): void {
    const w = this.#waiter;
    if (!w || this.size > 0) return;
    this.#waiter = undefined;
    if (this.#error !== undefined) w.reject(this.#error);
    else w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head] = undefined as T;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      if (this.#paused && this.size <= this.#highWater / 2) {
        this.#paused = false;
        this.#onResume?.();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) {
      if (this.#error !== undefined) return Promise.reject(this.#error);
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#paused) {
      this.#paused = false;
      this.#onResume?.();
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Consumer gave up (break / return()): tell the producer to cancel. */
  cancel(reason?: unknown): void {
    if (!this.#done) {
      this.#done = true;
      this.#items = [];
      this.#head = 0;
      this.#onCancel?.(reason);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => {
        this.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
