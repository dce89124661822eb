// Minimal typings for "bun:test" so `tsc -p .` checks our tests (the repo has no bun-types).
// Functions and interfaces only, so it merges with any other declaration of the module.
// TODO(lead): replace with one repo-wide declaration (e.g. test/bun-test.d.ts) and delete this file.
declare module "bun:test" {
  interface BunMatchers<R> {
    not: BunMatchers<R>;
    resolves: BunMatchers<Promise<R>>;
    rejects: BunMatchers<Promise<R>>;
    toBe(expected: unknown): R;
    toEqual(expected: unknown): R;
    toStrictEqual(expected: unknown): R;
    toMatchObject(expected: object): R;
    toContain(expected: unknown): R;
    toMatch(expected: string | RegExp): R;
    toThrow(expected?: string | RegExp | (new (...args: never[]) => unknown)): R;
    toBeUndefined(): R;
    toBeDefined(): R;
    toBeNull(): R;
    toBeTruthy(): R;
    toBeFalsy(): R;
    toBeGreaterThan(n: number | bigint): R;
    toBeGreaterThanOrEqual(n: number | bigint): R;
    toBeLessThan(n: number | bigint): R;
    toBeLessThanOrEqual(n: number | bigint): R;
    toBeCloseTo(n: number, digits?: number): R;
    toBeInstanceOf(cls: abstract new (...args: never[]) => unknown): R;
    toHaveLength(n: number): R;
    toHaveProperty(path: string, value?: unknown): R;
  }
  export function expect(actual: unknown): BunMatchers<void>;
  export function test(name: string, fn: () => void | Promise<unknown>, timeoutMs?: number): void;
  export function it(name: string, fn: () => void | Promise<unknown>, timeoutMs?: number): void;
  export function describe(name: string, fn: () => void): void;
  export function beforeAll(fn: () => void | Promise<unknown>): void;
  export function afterAll(fn: () => void | Promise<unknown>): void;
  export function beforeEach(fn: () => void | Promise<unknown>): void;
  export function afterEach(fn: () => void | Promise<unknown>): void;
}
