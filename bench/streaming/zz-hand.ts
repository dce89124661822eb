import { create, toBinary, fromBinary, toJson } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { marketHandlers } from "../../src/demo/market-service.ts";
import { registryFromDescriptorSets, createBinaryJsonWriter } from "../../src/transcode/index.ts";
import { JsonSink } from "../../src/transcode/json-sink.ts";
import { WireCursor } from "../../src/transcode/wire-cursor.ts";
const registry = registryFromDescriptorSets([readFileSync(new URL("../../idl/descriptors.binpb", import.meta.url))]);
const desc = registry.getMessage("market.v1.GetKLinesResponse")!;
const handlers = marketHandlers({ orderLatencyMs: 0 }, { ordersPlaced: 0, ordersCancelled: 0 });
const reply = await (handlers["market.v1.MarketService/GetKLines"] as (r: unknown) => unknown)({ symbol: "BTCUSDT", interval: "1m", limit: 1000, endTime: 0n });
const bytes = toBinary(desc, create(desc, reply as never));
const enc = new TextEncoder();
const K = ["openTime","open","high","low","close","volume","closeTime","trades","quoteVolume"].map((k) => enc.encode(`"${k}":`));
function num(out: JsonSink, v: number) { if ((v | 0) === v) out.int(v); else out.double(v); }
function kline(out: JsonSink, c: WireCursor, end: number) {
  let ot = -1, o = 0, h = 0, l = 0, cl = 0, vo = 0, ct = -1, tr = -1, qv = 0;
  while (c.pos < end) {
    const tag = c.buf[c.pos++]!;
    switch (tag) {
      case 0x08: c.varint64(); ot = c.hi * 4294967296 + c.lo; break;
      case 0x11: o = c.double(); break;
      case 0x19: h = c.double(); break;
      case 0x21: l = c.double(); break;
      case 0x29: cl = c.double(); break;
      case 0x31: vo = c.double(); break;
      case 0x38: c.varint64(); ct = c.hi * 4294967296 + c.lo; break;
      case 0x40: c.varint64(); tr = c.hi * 4294967296 + c.lo; break;
      case 0x49: qv = c.double(); break;
      default: throw new Error("x");
    }
  }
  out.byte(0x7b); let first = true;
  const key = (i: number) => { if (!first) out.byte(0x2c); first = false; out.raw(K[i]!, 0, K[i]!.length); };
  if (ot > 0) { key(0); out.byte(0x22); out.uint53(ot); out.byte(0x22); }
  if (o !== 0) { key(1); num(out, o); }
  if (h !== 0) { key(2); num(out, h); }
  if (l !== 0) { key(3); num(out, l); }
  if (cl !== 0) { key(4); num(out, cl); }
  if (vo !== 0) { key(5); num(out, vo); }
  if (ct > 0) { key(6); out.byte(0x22); out.uint53(ct); out.byte(0x22); }
  if (tr > 0) { key(7); out.byte(0x22); out.uint53(tr); out.byte(0x22); }
  if (qv !== 0) { key(8); num(out, qv); }
  out.byte(0x7d);
}
function all(b: Uint8Array) {
  const c = new WireCursor(b); const out = new JsonSink(b.length * 3);
  out.ascii('{"symbol":"BTCUSDT","interval":"1m","klines":[');
  let first = true;
  while (c.pos < b.length) { const tag = c.buf[c.pos++]!; const len = c.uint32(); const s = c.pos; c.pos += len; if (tag === 0x1a) { if (!first) out.byte(0x2c); first = false; const save = c.pos; c.pos = s; kline(out, c, s + len); c.pos = save; } }
  out.ascii("]}"); return out.result();
}
const a = new TextDecoder().decode(all(bytes)), e = JSON.stringify(toJson(desc, fromBinary(desc, bytes)));
console.log("equal", a === e);

const w = createBinaryJsonWriter(registry, { emitDefaults: false, useProtoNames: false });
function t(fn: () => unknown) { const t0 = performance.now(); for (let i = 0; i < 100; i++) fn(); return (performance.now() - t0) / 100 * 1000; }
const res: Record<string, number[]> = { hand: [], direct: [], es: [] };
for (let r = 0; r < 15; r++) {
  res.hand!.push(t(() => all(bytes)));
  res.direct!.push(t(() => w.tryWrite(desc, bytes)));
  res.es!.push(t(() => enc.encode(JSON.stringify(toJson(desc, fromBinary(desc, bytes))))));
}
const med = (xs: number[]) => xs.slice(3).sort((a, b) => a - b)[Math.floor((xs.length - 3) / 2)]!;
console.log("median us: hand", med(res.hand!).toFixed(0), "direct", med(res.direct!).toFixed(0), "protobuf-es", med(res.es!).toFixed(0));
