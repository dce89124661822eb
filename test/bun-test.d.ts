// Minimal types for bun:test so `tsc` checks test files without the bun-types package.
declare module "bun:test" {
  type Fn = () => void | Promise<unknown>;
  type TestFn = (name: string, fn: Fn, timeoutMs?: number) => void;
  export const test: TestFn & { skip: TestFn; only: TestFn; if(cond: boolean): TestFn; each<T>(rows: readonly T[]): (name: string, fn: (row: T) => void | Promise<unknown>) => void };
  export const it: typeof test;
  export const describe: ((name: string, fn: () => void) => void) & { skip: (name: string, fn: () => void) => void; if(cond: boolean): (name: string, fn: () => void) => void };
  export function beforeAll(fn: Fn, timeoutMs?: number): void;
  export function afterAll(fn: Fn, timeoutMs?: number): void;
  export function beforeEach(fn: Fn, timeoutMs?: number): void;
  export function afterEach(fn: Fn, timeoutMs?: number): void;
  export function setDefaultTimeout(ms: number): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export function expect(actual: unknown, message?: string): any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export function mock<T extends (...args: any[]) => any>(fn: T): T & { mock: { calls: unknown[][] } };
}

// Bun's import.meta additions used by tests.
interface ImportMeta {
  readonly dir: string;
  readonly path: string;
}
