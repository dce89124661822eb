/**
 * One timer for a moving deadline, cheap to re-arm on every read: it is replaced only when the new
 * deadline is earlier; a later deadline is left to the owner's callback, which re-checks and re-arms.
 */
export class DeadlineTimer {
  readonly #fire: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #at = Infinity;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** Fire at `at` (ms, on the clock `now` reads) or earlier if already armed earlier. */
  arm(at: number, now: number): void {
    if (at >= this.#at) return;
    this.clear();
    this.#at = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#at = Infinity;
      this.#fire();
    }, Math.max(0, at - now));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = Infinity;
  }
}
