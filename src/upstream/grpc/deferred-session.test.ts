import { describe, expect, test } from "bun:test";
import type { H2Session, H2SessionEvents, H2TlsOptions } from "../../runtime/index.ts";
import { openWhenLoaded } from "./deferred-session.ts";

function events(): H2SessionEvents & { closes: (Error | undefined)[] } {
  const closes: (Error | undefined)[] = [];
  return { closes, goaway: () => {}, remoteSettings: () => {}, close: (e) => closes.push(e) };
}

function fakeSession(): H2Session & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    ready: Promise.resolve(),
    maxConcurrentStreams: 7,
    closed: false,
    request: () => {
      calls.push("request");
      return {} as never;
    },
    ping: async () => 1,
    close: () => calls.push("close"),
    destroy: () => calls.push("destroy"),
    unref: () => calls.push("unref"),
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
}

describe("openWhenLoaded", () => {
  test("opens with the loaded material; until then it is connecting and refuses streams", async () => {
    const material = deferred<H2TlsOptions>();
    const inner = fakeSession();
    const seen: H2TlsOptions[] = [];
    const s = openWhenLoaded(() => material.promise, (tls) => (seen.push(tls), inner), events());
    s.unref();
    expect(s.closed).toBe(false);
    expect(s.maxConcurrentStreams).toBe(100);
    expect(() => s.request({})).toThrow("not open yet");
    await expect(s.ping(10)).rejects.toThrow("not open yet");
    material.resolve({ ca: "PEM" });
    await s.ready;
    expect(seen).toEqual([{ ca: "PEM" }]);
    expect(s.maxConcurrentStreams).toBe(7);
    s.request({});
    s.close();
    expect(inner.calls).toEqual(["unref", "request", "close"]);
  });

  test("a failed load rejects ready and reports the close once, with the loader's error", async () => {
    const ev = events();
    let opened = false;
    const s = openWhenLoaded(() => Promise.reject(new Error('cannot read tls.caFile "x"')), () => ((opened = true), fakeSession()), ev);
    await expect(s.ready).rejects.toThrow('cannot read tls.caFile "x"');
    expect(ev.closes.map((e) => e?.message)).toEqual(['cannot read tls.caFile "x"']);
    expect(s.closed).toBe(true);
    s.destroy();
    expect(ev.closes.length).toBe(1);
    expect(opened).toBe(false);
  });

  test("a loader that throws synchronously is a failed load too", async () => {
    const ev = events();
    const s = openWhenLoaded(() => { throw new Error("boom"); }, () => fakeSession(), ev);
    await expect(s.ready).rejects.toThrow("boom");
    expect(ev.closes.length).toBe(1);
  });

  test("destroyed while loading: never opens, reports the close with the reason", async () => {
    const material = deferred<H2TlsOptions>();
    const ev = events();
    let opened = false;
    const s = openWhenLoaded(() => material.promise, () => ((opened = true), fakeSession()), ev);
    s.destroy(new Error("connect timeout"));
    await expect(s.ready).rejects.toThrow("connect timeout");
    material.resolve({});
    await new Promise((r) => setTimeout(r, 10));
    expect(opened).toBe(false);
    expect(ev.closes.map((e) => e?.message)).toEqual(["connect timeout"]);
    expect(s.closed).toBe(true);
  });

  test("closed while loading: ends without an error", async () => {
    const material = deferred<H2TlsOptions>();
    const ev = events();
    const s = openWhenLoaded(() => material.promise, () => fakeSession(), ev);
    s.close();
    await expect(s.ready).rejects.toThrow("closed before it opened");
    expect(ev.closes).toEqual([undefined]);
  });
});
