// Issue 4: consistent hashing on a configured header (cache affinity). With `balancer: ring_hash` and
// `hashHeader`, every request carrying the same header value lands on the same endpoint, for any protocol,
// with the default `headers.forward` (empty): the hash header must reach the balancer without the user
// also listing it among the forwarded headers (it used to be read from forwarded metadata only, so a
// config that did not forward it silently fell back to random picks).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { portFor, PROTOCOLS, startBackend, startFaultGateway, type ProtocolName } from "../helpers/fault-gateway.ts";
import { call } from "../helpers/fault-load.ts";

const backends: DemoBackend[] = [];
const gateways: Gateway[] = [];
beforeAll(async () => {
  for (let i = 0; i < 3; i++) backends.push(await startBackend());
});
afterAll(async () => {
  for (const g of gateways) await g.stop();
  for (const b of backends) b.kill();
});

/** Which backend served one call: the one whose completed-call counter moved (calls are sequential). */
async function servedBy(url: string, user: string): Promise<number> {
  const before = backends.map((b) => b.stats.echoCompleted);
  const r = await call(url, { text: user }, { "x-user": user });
  expect(r.status).toBe(200);
  const moved = backends.map((b, i) => b.stats.echoCompleted - before[i]!);
  expect(moved.reduce((a, b) => a + b, 0)).toBe(1);
  return moved.indexOf(1);
}

describe("ring_hash on hashHeader x-user, three endpoints, nothing in headers.forward", () => {
  for (const protocol of ["grpc", "ttheader-mux"] as const satisfies readonly ProtocolName[]) {
    test(`${protocol}: each user's calls all land on one endpoint; users spread over several`, async () => {
      const gw = await startFaultGateway({
        upstream: {
          name: "demo",
          ...PROTOCOLS[protocol],
          endpoints: backends.map((b) => `127.0.0.1:${portFor(b, protocol)}`),
          balancer: "ring_hash",
          hashHeader: "X-User", // lower-cased by the schema
        },
      });
      gateways.push(gw);
      const url = `${gw.url}/demo.v1.EchoService/Echo`;
      const home = new Map<string, Set<number>>();
      for (let round = 0; round < 4; round++) {
        for (let u = 0; u < 20; u++) {
          const user = `user-${u}`;
          const set = home.get(user) ?? new Set<number>();
          set.add(await servedBy(url, user));
          home.set(user, set);
        }
      }
      const sticky = [...home.values()].filter((s) => s.size === 1).length;
      const used = new Set([...home.values()].flatMap((s) => [...s]));
      console.log(`ring_hash/${protocol}: ${sticky}/20 users always on one endpoint; endpoints used ${[...used].sort().join(",")}`);
      expect(sticky).toBe(20);
      // 20 keys on a ring of 3 endpoints: all on one endpoint has probability ~3^-19.
      expect(used.size).toBeGreaterThanOrEqual(2);
    }, 20_000);
  }
});
