// The rotation order of EndpointPool's max age, step by step with in-memory connections whose connect
// the test completes or fails by hand (no networking: this is the pool's state machine; the socket-level
// behaviour is in pool-age.test.ts and pool-age-pingpong.test.ts).
import { afterEach, expect, test } from "bun:test";
import { Event } from "../core/index.ts";
import { EndpointPool, type Connection, type ConnectionState, type PoolOptions } from "./index.ts";

class FakeConnection implements Connection {
  readonly id: number;
  readonly protocol = "ttheader-mux" as const;
  readonly endpoint = "127.0.0.1:1";
  readonly capacity = 100;
  readonly createdAt = Date.now();
  readonly lastUsedAt = Date.now();
  readonly ready: Promise<void>;
  state: ConnectionState = "connecting";
  active = 0;
  #changes = new Event<ConnectionState>();
  #settle!: { resolve: () => void; reject: (e: unknown) => void };
  constructor(id: number) {
    this.id = id;
    this.ready = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.ready.catch(() => {});
  }
  connect(): void {
    this.#set("ready");
    this.#settle.resolve();
  }
  fail(): void {
    this.#set("closed");
    this.#settle.reject(new Error("refused"));
  }
  unary(): never {
    throw new Error("not used");
  }
  stream(): never {
    throw new Error("not used");
  }
  drain(): void {
    if (this.state === "ready" || this.state === "connecting") this.#set(this.active > 0 ? "draining" : "closed");
  }
  destroy(): void {
    this.#set("closed");
  }
  onStateChange(fn: (s: ConnectionState) => void): () => void {
    return this.#changes.on(fn);
  }
  stats() {
    return { id: this.id, protocol: this.protocol, state: this.state, active: this.active, capacity: this.capacity, createdAt: this.createdAt, lastUsedAt: this.lastUsedAt, callsTotal: 0 };
  }
  #set(s: ConnectionState): void {
    if (this.state === s || this.state === "closed") return;
    this.state = s;
    this.#changes.emit(s);
  }
}

const pools: EndpointPool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.destroy();
});

function setup(over: Partial<PoolOptions> = {}) {
  const made: FakeConnection[] = [];
  let auto = true;
  const pool = new EndpointPool({
    key: "127.0.0.1:1",
    upstream: "test",
    create: (id) => {
      const c = new FakeConnection(id);
      made.push(c);
      if (auto) queueMicrotask(() => c.connect());
      return c;
    },
    minConnections: 3,
    maxConnections: 3,
    maxConcurrentPerConnection: 100,
    idleTimeoutMs: 0,
    maxIdle: 10,
    queueSize: 10,
    queueTimeoutMs: 1000,
    maxAgeMs: 50,
    maxAgeJitter: 0,
    reconnectBackoff: { initialMs: 50, maxMs: 50, jitter: 0 },
    ...over,
  });
  pools.push(pool);
  return { pool, made, manual: () => (auto = false) };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
const tick = () => new Promise((r) => setTimeout(r, 0));

test("aged connections are replaced one at a time, each retired only once its replacement is ready", async () => {
  const { pool, made, manual } = setup();
  await pool.warmUp();
  manual();
  const [a, b, c] = made as [FakeConnection, FakeConnection, FakeConnection];
  await waitFor(() => pool.stats().age.aged === 3);
  await tick();
  // All three are past their age, but only one replacement is being dialled; nothing retired yet.
  expect(made.length).toBe(4);
  expect([a.state, b.state, c.state]).toEqual(["ready", "ready", "ready"]);
  expect(pool.stats().age.replacing).toBe(true);

  made[3]!.connect();
  await tick();
  expect(a.state).toBe("closed"); // the oldest goes first (it was idle, so it closes at once)
  expect([b.state, c.state]).toEqual(["ready", "ready"]);
  expect(made.length).toBe(5); // and the next replacement starts

  made[4]!.connect();
  await tick();
  expect(b.state).toBe("closed");
  expect(made.length).toBe(6);
  made[5]!.connect();
  await tick();
  expect(c.state).toBe("closed");
  expect(pool.stats().connections.ready).toBe(3);
  expect(pool.stats().age.retiredByAge).toBe(3);
});

test("a replacement that fails leaves the old connection ready; the retry waits for the back-off", async () => {
  const { pool, made, manual } = setup({ minConnections: 1, maxConnections: 1 });
  await pool.warmUp();
  manual();
  const old = made[0]!;
  await waitFor(() => made.length === 2);
  made[1]!.fail();
  await tick();
  expect(old.state).toBe("ready");
  expect(made.length).toBe(2); // not re-dialled at once
  expect(pool.stats().connectFailures).toBe(1);
  await waitFor(() => made.length === 3); // after the back-off
  expect(old.state).toBe("ready");
  made[2]!.connect();
  await tick();
  expect(old.state).toBe("closed");
  expect(pool.stats().connections.ready).toBe(1);
});

test("with no minimum, a busy aged connection is still replaced first and drains; an idle one just closes", async () => {
  const { pool, made } = setup({ minConnections: 0, maxConnections: 2, maxAgeMs: 150 });
  await pool.warmUp(1);
  const busy = made[0]!;
  busy.active = 1; // a call in flight, as the connection reports it
  await waitFor(() => made.length === 2 && made[1]!.state === "ready");
  await tick();
  expect(busy.state).toBe("draining"); // its call goes on; it takes no new ones
  expect(pool.stats().connections).toMatchObject({ ready: 1, draining: 1 });

  // The replacement is idle when it ages: nothing needs it, so it closes without a replacement of its own.
  const idle = made[1]!;
  await waitFor(() => idle.state === "closed");
  await tick();
  expect(made.length).toBe(2);
  expect(pool.stats().age.retiredByAge).toBe(2);
});
