// Max connection age in EndpointPool for one-call-per-connection (TTHeader pool mode) connections, against a
// scripted TTHeader server on loopback that counts the connections it accepted: a connection past its age
// is not reused (idle: closed at once; busy: closed when its call ends), and the next call dials anew.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { decodePayload, encodeMessageFrame, FrameDecoder, MessageType } from "../protocol/ttheader/index.ts";
import { detectRuntime, type Runtime, type TcpServerHandle } from "../runtime/index.ts";
import { createPingpongConnection, EndpointPool, type Connection, type MethodRef } from "./index.ts";

const ECHO: MethodRef = { service: "demo.v1.EchoService", method: "Echo", path: "/demo.v1.EchoService/Echo" };
const enc = new TextEncoder();
const dec = new TextDecoder();

let rt: Runtime;
let server: TcpServerHandle;
let accepted = 0;
const pools: EndpointPool[] = [];

/** Echoes the body; a body "slow:<ms>" is answered after that many ms. */
beforeAll(async () => {
  rt = await detectRuntime();
  server = await rt.listenTcp({ hostname: "127.0.0.1", port: 0 }, (sock) => {
    accepted++;
    const d = new FrameDecoder();
    return {
      data(chunk) {
        for (const frame of d.push(chunk).frames) {
          const m = decodePayload(frame.payload);
          if (!m.ok) continue;
          const msg = m.value;
          const text = dec.decode(msg.body);
          const send = () =>
            sock.write(
              encodeMessageFrame(
                { seqId: frame.seqId, strHeaders: new Map(), intHeaders: new Map() },
                { codec: "kitex-protobuf", framed: true, type: MessageType.reply, method: msg.method, seqId: msg.seqId, body: msg.body },
              ),
            );
          if (text.startsWith("slow:")) setTimeout(send, Number(text.slice(5)));
          else send();
        }
      },
      drain() {},
      close() {},
    };
  });
});

afterAll(async () => {
  for (const p of pools) p.destroy();
  await server.close();
});

function makePool(maxAgeMs: number): { pool: EndpointPool; made: Connection[] } {
  const made: Connection[] = [];
  const pool = new EndpointPool({
    key: `127.0.0.1:${server.port}`,
    upstream: "test",
    create: (id) => {
      const c = createPingpongConnection({ id, connectTcp: rt.connectTcp, host: "127.0.0.1", port: server.port, connectTimeoutMs: 2000 });
      made.push(c);
      return c;
    },
    minConnections: 0,
    maxConnections: 4,
    maxConcurrentPerConnection: 1,
    idleTimeoutMs: 0,
    maxIdle: 10,
    queueSize: 10,
    queueTimeoutMs: 2000,
    maxAgeMs,
  });
  pools.push(pool);
  return { pool, made };
}

/** One call through the pool; returns the connection it used. */
async function call(pool: EndpointPool, text: string): Promise<Connection> {
  const c = pool.acquire();
  const conn = c instanceof Promise ? await c : c;
  try {
    const reply = await conn.unary(enc.encode(text), { method: ECHO, deadline: Date.now() + 5000 });
    expect(dec.decode(reply.message)).toBe(text);
  } finally {
    pool.release(conn);
  }
  return conn;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test("pool mode: an idle connection older than maxAge is closed, not reused; the next call dials a new one", async () => {
  const { pool, made } = makePool(1000);
  const before = accepted;
  const first = await call(pool, "one");
  const again = await call(pool, "two"); // well within its age: reused
  expect(again).toBe(first);
  expect(accepted - before).toBe(1);
  // Past its age (1000 ms +/- 10 %) the idle connection is closed by the pool.
  expect(await waitFor(() => first.state === "closed", 5000)).toBe(true);
  expect(pool.stats().age.retiredByAge).toBe(1);
  const third = await call(pool, "three");
  expect(third).not.toBe(first);
  expect(accepted - before).toBe(2);
  expect(made.length).toBe(2);
}, 10_000);

test("pool mode: a busy connection past its age finishes its call, then closes instead of going back to the pool", async () => {
  const { pool } = makePool(200);
  const before = accepted;
  // The reply comes after 700 ms: the connection reaches its age (200 ms +/- 10 %) with the call in flight.
  const slow = await call(pool, "slow:700");
  expect(slow.state).toBe("closed"); // closed on release, not handed out again
  const next = await call(pool, "after");
  expect(next).not.toBe(slow);
  expect(accepted - before).toBe(2);
  expect(pool.stats().age.retiredByAge).toBeGreaterThanOrEqual(1);
}, 10_000);
