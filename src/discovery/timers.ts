/**
 * The little bit of timing discovery needs, injectable so tests drive time by hand.
 * The default uses the Web-standard setTimeout and unrefs it where the runtime allows,
 * so a resolver never keeps the process alive on its own.
 */
export interface Timers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    (t as { unref?(): void }).unref?.();
    return t;
  },
  clear(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
