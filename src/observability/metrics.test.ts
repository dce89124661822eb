import { describe, expect, test } from "bun:test";
import {
  Counter,
  DEFAULT_LATENCY_BUCKETS,
  exponentialBuckets,
  Gauge,
  Histogram,
  linearBuckets,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "./index.ts";

// --- a tiny, independent parser for the text format (only what we emit) ---
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Parsed {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

function unescape(s: string, allowQuote: boolean): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === "\\") out += "\\";
    else if (n === "n") out += "\n";
    else if (n === '"' && allowQuote) out += '"';
    else throw new Error(`bad escape \\${n}`);
  }
  return out;
}

function parseValue(v: string): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  if (v === "NaN") return NaN;
  const n = Number(v);
  if (v.trim() === "" || Number.isNaN(n)) throw new Error(`bad value ${v}`);
  return n;
}

function parseExposition(text: string): Parsed {
  const out: Parsed = { help: new Map(), type: new Map(), samples: [] };
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      out.help.set(m[1]!, unescape(m[2]!, false));
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      out.type.set(m[1]!, m[2]!);
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`bad line: ${line}`);
    const name = nameMatch[0];
    let i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === "{") {
      i++;
      while (line[i] !== "}") {
        const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
        if (!ln) throw new Error(`bad label in: ${line}`);
        i += ln[0].length;
        if (line[i] !== "=" || line[i + 1] !== '"') throw new Error(`bad label in: ${line}`);
        i += 2;
        let raw = "";
        while (line[i] !== '"') {
          if (i >= line.length) throw new Error(`unterminated: ${line}`);
          if (line[i] === "\\") raw += line[i++];
          raw += line[i++];
        }
        i++;
        labels[ln[0]] = unescape(raw, true);
        if (line[i] === ",") i++;
      }
      i++;
    }
    if (line[i] !== " ") throw new Error(`bad line: ${line}`);
    out.samples.push({ name, labels, value: parseValue(line.slice(i + 1)) });
  }
  return out;
}

function find(p: Parsed, name: string, labels: Record<string, string> = {}): number | undefined {
  const keys = Object.keys(labels);
  const s = p.samples.find(
    (x) => x.name === name && Object.keys(x.labels).length === keys.length && keys.every((k) => x.labels[k] === labels[k]),
  );
  return s?.value;
}

describe("metrics registry + Prometheus text", () => {
  test("counter values are exact after known increments and parse back", () => {
    const reg = new MetricsRegistry();
    const c = reg.counter({ name: "http_requests_total", help: "Requests.", labelNames: ["route", "status"] });
    const ok = c.labels({ route: "/a", status: 200 });
    for (let i = 0; i < 7; i++) ok.inc();
    c.labels({ route: "/a", status: "500" }).inc(3);
    c.labels({ route: "/b", status: 200 }).inc(0.5);
    const p = parseExposition(reg.render());
    expect(p.type.get("http_requests_total")).toBe("counter");
    expect(p.help.get("http_requests_total")).toBe("Requests.");
    expect(find(p, "http_requests_total", { route: "/a", status: "200" })).toBe(7);
    expect(find(p, "http_requests_total", { route: "/a", status: "500" })).toBe(3);
    expect(find(p, "http_requests_total", { route: "/b", status: "200" })).toBe(0.5);
    expect(p.samples.length).toBe(3);
  });

  test("labels() caches the child: same object for the same values, numbers and strings alike", () => {
    const c = new Counter({ name: "x_total", help: "x", labelNames: ["a", "b"] });
    const one = c.labels({ a: "1", b: "z" });
    expect(c.labels({ a: 1, b: "z" })).toBe(one);
    expect(c.labels({ a: "1", b: "y" })).not.toBe(one);
    // Joined-key collisions must not happen for ordinary values.
    expect(c.labels({ a: "1z", b: "" })).not.toBe(c.labels({ a: "1", b: "z" }));
  });

  test("unlabelled metrics are exported at 0 before any event", () => {
    const reg = new MetricsRegistry();
    reg.counter({ name: "boot_total", help: "b" });
    reg.gauge({ name: "inflight", help: "i" });
    reg.histogram({ name: "lat_seconds", help: "l", buckets: [1] });
    const p = parseExposition(reg.render());
    expect(find(p, "boot_total")).toBe(0);
    expect(find(p, "inflight")).toBe(0);
    expect(find(p, "lat_seconds_count")).toBe(0);
    expect(find(p, "lat_seconds_bucket", { le: "+Inf" })).toBe(0);
  });

  test("label values and HELP are escaped and round-trip", () => {
    const reg = new MetricsRegistry();
    const nasty = 'back\\slash "quoted"\nnext line';
    const g = reg.gauge({ name: "esc", help: "help with \\ and\nnewline and \"quotes\"", labelNames: ["v"] });
    g.labels({ v: nasty }).set(42);
    const text = reg.render();
    expect(text).toContain('esc{v="back\\\\slash \\"quoted\\"\\nnext line"} 42');
    expect(text).toContain('# HELP esc help with \\\\ and\\nnewline and "quotes"');
    const p = parseExposition(text);
    expect(find(p, "esc", { v: nasty })).toBe(42);
    expect(p.help.get("esc")).toBe('help with \\ and\nnewline and "quotes"');
  });

  test("histogram buckets are cumulative with le=+Inf, _sum and _count", () => {
    const reg = new MetricsRegistry();
    const h = reg.histogram({ name: "rpc_seconds", help: "h", labelNames: ["method"], buckets: [0.1, 0.01, 1] });
    expect(h.buckets).toEqual([0.01, 0.1, 1]);
    const child = h.labels({ method: "Get" });
    const obs = [0.003, 0.01, 0.02, 0.02, 0.7, 1, 20];
    for (const v of obs) child.observe(v);
    h.labels({ method: "Put" }).observe(0.5);
    const p = parseExposition(reg.render());
    expect(p.type.get("rpc_seconds")).toBe("histogram");
    const bucket = (le: string) => find(p, "rpc_seconds_bucket", { method: "Get", le });
    // le is an inclusive upper bound.
    expect(bucket("0.01")).toBe(2);
    expect(bucket("0.1")).toBe(4);
    expect(bucket("1")).toBe(6);
    expect(bucket("+Inf")).toBe(7);
    expect(find(p, "rpc_seconds_count", { method: "Get" })).toBe(7);
    expect(find(p, "rpc_seconds_sum", { method: "Get" })).toBeCloseTo(obs.reduce((a, b) => a + b, 0), 12);
    expect(find(p, "rpc_seconds_bucket", { method: "Put", le: "0.1" })).toBe(0);
    expect(find(p, "rpc_seconds_bucket", { method: "Put", le: "1" })).toBe(1);
    // Cumulative: non-decreasing in le order within each series.
    for (const method of ["Get", "Put"]) {
      const vals = p.samples
        .filter((s) => s.name === "rpc_seconds_bucket" && s.labels["method"] === method)
        .map((s) => [parseFloat(s.labels["le"]!.replace("+Inf", "Infinity")), s.value] as const);
      expect(vals.map((v) => v[0])).toEqual([0.01, 0.1, 1, Infinity]);
      for (let i = 1; i < vals.length; i++) expect(vals[i]![1]).toBeGreaterThanOrEqual(vals[i - 1]![1]);
    }
  });

  test("histogram startTimer observes a non-negative duration in seconds", async () => {
    const h = new Histogram({ name: "t_seconds", help: "t" });
    const stop = h.startTimer();
    await new Promise((r) => setTimeout(r, 5));
    const s = stop();
    expect(s).toBeGreaterThan(0);
    const snap = h.snapshot();
    expect(snap.series[0]!.count).toBe(1);
    expect(snap.series[0]!.sum).toBe(s);
    expect(snap.buckets).toEqual([...DEFAULT_LATENCY_BUCKETS]);
  });

  test("gauge: set/inc/dec, collect callback at scrape, and a throwing callback keeps old values", () => {
    const reg = new MetricsRegistry();
    let live = 3;
    let fail = false;
    const g = reg.gauge({
      name: "pool_connections",
      help: "c",
      labelNames: ["upstream"],
      collect: (gg) => {
        if (fail) throw new Error("boom");
        gg.labels({ upstream: "u1" }).set(live);
      },
    });
    expect(find(parseExposition(reg.render()), "pool_connections", { upstream: "u1" })).toBe(3);
    live = 5;
    expect(find(parseExposition(reg.render()), "pool_connections", { upstream: "u1" })).toBe(5);
    fail = true;
    live = 9;
    expect(find(parseExposition(reg.render()), "pool_connections", { upstream: "u1" })).toBe(5);
    expect(g.collectErrors).toBe(1);

    const plain = new Gauge({ name: "inflight", help: "i" });
    plain.inc();
    plain.inc(4);
    plain.dec(2);
    expect(plain.value).toBe(3);
    plain.set(-1.5);
    expect(plain.snapshot().series[0]!.value).toBe(-1.5);
  });

  test("special float values render as +Inf, -Inf, NaN", () => {
    const reg = new MetricsRegistry();
    const g = reg.gauge({ name: "f", help: "f", labelNames: ["k"] });
    g.labels({ k: "a" }).set(Infinity);
    g.labels({ k: "b" }).set(-Infinity);
    g.labels({ k: "c" }).set(NaN);
    const text = reg.render();
    expect(text).toContain('f{k="a"} +Inf\n');
    expect(text).toContain('f{k="b"} -Inf\n');
    expect(text).toContain('f{k="c"} NaN\n');
  });

  test("misuse is rejected", () => {
    const reg = new MetricsRegistry();
    reg.counter({ name: "dup_total", help: "d" });
    expect(() => reg.counter({ name: "dup_total", help: "d" })).toThrow(/already registered/);
    expect(() => new Counter({ name: "bad-name", help: "x" })).toThrow(/invalid metric name/);
    expect(() => new Counter({ name: "ok", help: "x", labelNames: ["__x"] })).toThrow(/invalid label/);
    expect(() => new Counter({ name: "ok", help: "x", labelNames: ["a", "a"] })).toThrow(/duplicate/);
    expect(() => new Histogram({ name: "h", help: "x", labelNames: ["le"] })).toThrow(/reserved/);
    expect(() => new Histogram({ name: "h", help: "x", buckets: [1, Infinity] })).toThrow(/finite/);
    const c = new Counter({ name: "c_total", help: "x", labelNames: ["a"] });
    expect(() => c.inc()).toThrow(/labels/);
    expect(() => c.labels({} as { a: string })).toThrow(/missing label "a"/);
    expect(() => c.labels({ a: "1" }).inc(-1)).toThrow(RangeError);
    expect(() => c.labels({ a: "1" }).inc(NaN)).toThrow(RangeError);
  });

  test("remove() drops a series; unregister() drops a metric", () => {
    const reg = new MetricsRegistry();
    const c = reg.counter({ name: "r_total", help: "r", labelNames: ["a"] });
    c.labels({ a: "x" }).inc();
    c.labels({ a: "y" }).inc();
    expect(c.remove({ a: "x" })).toBe(true);
    const p = parseExposition(reg.render());
    expect(find(p, "r_total", { a: "x" })).toBeUndefined();
    expect(find(p, "r_total", { a: "y" })).toBe(1);
    expect(reg.unregister("r_total")).toBe(true);
    expect(reg.render()).toBe("");
  });

  test("bucket helpers and content type", () => {
    expect(linearBuckets(1, 2, 3)).toEqual([1, 3, 5]);
    expect(exponentialBuckets(0.001, 10, 3).map((x) => +x.toPrecision(6))).toEqual([0.001, 0.01, 0.1]);
    expect(PROMETHEUS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });
});
