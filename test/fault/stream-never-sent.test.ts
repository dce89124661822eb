// Streaming calls get the never-sent retry unary calls have: a stream whose connection failed or closed
// before the call was written is retried once on another connection or endpoint (its request messages
// replayed), so clients see no failure; a stream that was sent is never repeated.
import { afterAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import net from "node:net";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { sleepMs } from "../helpers/fault-load.ts";
import { serviceDefinition } from "../helpers/grpc-js-server.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface StreamResult {
  readonly status: number;
  readonly lines: any[];
}

async function serverStream(gw: Gateway, text: string, n: number, delayMs: number): Promise<StreamResult> {
  const res = await fetch(`${gw.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify({ text, n, delayMs }), signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  return { status: res.status, lines: res.status === 200 ? body.trimEnd().split("\n").map((l) => JSON.parse(l)) : [JSON.parse(body)] };
}

async function clientStream(gw: Gateway, parts: string[]): Promise<StreamResult> {
  const res = await fetch(`${gw.url}/demo.v1.EchoService/Collect`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: parts.map((text) => JSON.stringify({ text })).join("\n") + "\n",
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, lines: [await res.json()] };
}

/** Failed attempts of the upstream, by whether they were sent. */
function countAttempts(gw: Gateway) {
  const c = { neverSent: 0, sent: 0, ok: 0 };
  gw.groups.get("demo")!.onOutcome.on((o) => {
    if (!o.error) c.ok++;
    else if (o.error.neverSent) c.neverSent++;
    else c.sent++;
  });
  return c;
}

describe("never-sent streams are retried", () => {
  test("one endpoint refuses connections: every server and client stream succeeds on the other", async () => {
    const backend = await startBackend();
    cleanup.push(() => backend.stop());
    const dead = await closedPort();
    // Outlier ejection off: the dead endpoint stays in rotation, so about every other pick lands on it.
    const gw = await startFaultGateway({
      upstream: { name: "demo", protocol: "grpc", endpoints: [`127.0.0.1:${dead}`, `127.0.0.1:${backend.grpcPort}`], outlier: false, pool: { minConnections: 0 } },
    });
    cleanup.push(() => gw.stop());
    const attempts = countAttempts(gw);
    const results: StreamResult[] = [];
    for (let i = 0; i < 12; i++) {
      results.push(await serverStream(gw, `s${i}-`, 3, 0));
      results.push(await clientStream(gw, [`c${i}a`, `c${i}b`, `c${i}c`]));
    }
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    results.forEach((r, i) => {
      const k = i >> 1;
      if (i % 2 === 0) expect(r.lines.map((l) => l.text)).toEqual([`s${k}-0`, `s${k}-1`, `s${k}-2`]);
      else expect(r.lines[0]).toEqual({ text: `c${k}ac${k}bc${k}c`, n: "3" });
    });
    expect(attempts.neverSent).toBeGreaterThan(0); // the dead endpoint was picked, and each pick was retried
    expect(attempts.sent).toBe(0);
  }, 20_000);

  test("grpc-js server with max connection age 200 ms (GOAWAY after GOAWAY) under streaming load: zero failures", async () => {
    const rt = await runtime();
    const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
    const server = new grpc.Server({ "grpc.max_connection_age_ms": 200, "grpc.max_connection_age_grace_ms": 5_000 });
    const started = new Map<string, number>();
    server.addService(serviceDefinition(registry.getService("demo.v1.EchoService")!), {
      EchoStream: (c: grpc.ServerWritableStream<any, any>) => {
        started.set(c.request.text, (started.get(c.request.text) ?? 0) + 1);
        let i = 0;
        const tick = () => {
          if (i === 3) return c.end();
          c.write({ text: `${c.request.text}${i}`, n: BigInt(i) });
          i++;
          setTimeout(tick, 20);
        };
        tick();
      },
      Collect: (c: grpc.ServerReadableStream<any, any>, cb: grpc.sendUnaryData<any>) => {
        let text = "";
        let n = 0n;
        c.on("data", (m: { text: string }) => {
          text += m.text;
          n++;
        });
        c.on("end", () => cb(null, { text, n }));
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    cleanup.push(() => server.forceShutdown());
    const gw = await startFaultGateway({ upstream: { name: "demo", protocol: "grpc", endpoints: [`127.0.0.1:${port}`] } });
    cleanup.push(() => gw.stop());
    const attempts = countAttempts(gw);
    const failures: string[] = [];
    let ok = 0;
    const until = Date.now() + 1_500;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; Date.now() < until; i++) {
          const text = `w${w}-${i}-`;
          const r = i % 2 === 0 ? await serverStream(gw, text, 3, 0) : await clientStream(gw, [text, "x"]);
          const good = r.status === 200 && (i % 2 === 0 ? r.lines.map((l) => l.text).join() === `${text}0,${text}1,${text}2` : r.lines[0].text === `${text}x`);
          if (good) ok++;
          else failures.push(JSON.stringify(r));
        }
      }),
    );
    await sleepMs(50);
    console.log(`stream never-sent/grpc-js max age: ${ok} ok, ${failures.length} failed; attempts ${JSON.stringify(attempts)}`);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    // Nothing ran twice on the server: only calls that never reached it were retried.
    for (const [text, n] of started) if (n !== 1) failures.push(`${text} started ${n} times`);
    expect(failures).toEqual([]);
  }, 20_000);
});
