// Binary -> JSON bytes for the market demo's 1,000-candle GetKLines reply (~180 KB of JSON) and for one
// streamed Quote: protobuf-es (fromBinary + toJson + JSON.stringify + TextEncoder, what the gateway did
// before) against the direct writer (src/transcode/json-writer.ts), same process, same bytes, rounds
// alternating. Run: npx bun bench/streaming/json-bench.ts   (node --import tsx ... / deno run -A ... too)
import { create, fromBinary, toBinary, toJson, type DescMessage } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { marketHandlers } from "../../src/demo/market-service.ts";
import { createBinaryJsonWriter, registryFromDescriptorSets } from "../../src/transcode/index.ts";

const registry = registryFromDescriptorSets([readFileSync(new URL("../../idl/descriptors.binpb", import.meta.url))]);
const klinesDesc = registry.getMessage("market.v1.GetKLinesResponse")!;
const quoteDesc = registry.getMessage("market.v1.Quote")!;
const handlers = marketHandlers({ orderLatencyMs: 0 }, { ordersPlaced: 0, ordersCancelled: 0 });
const reply = await (handlers["market.v1.MarketService/GetKLines"] as (r: unknown) => unknown)({ symbol: "BTCUSDT", interval: "1m", limit: 1000, endTime: 0n });
const klines = toBinary(klinesDesc, create(klinesDesc, reply as never));
const quote = toBinary(quoteDesc, create(quoteDesc, { symbol: "BTCUSDT", seq: 42n, bid: 64000.5, ask: 64001.25, last: 64000.75, time: { seconds: 1763769600n, nanos: 123000000 } } as never));

const writer = createBinaryJsonWriter(registry, { emitDefaults: false, useProtoNames: false });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const viaProtobufEs = (d: DescMessage, b: Uint8Array) => encoder.encode(JSON.stringify(toJson(d, fromBinary(d, b), { registry })));
const direct = (d: DescMessage, b: Uint8Array) => writer.tryWrite(d, b)!;
for (const [d, b] of [[klinesDesc, klines], [quoteDesc, quote]] as const) {
  if (decoder.decode(viaProtobufEs(d, b)) !== decoder.decode(direct(d, b))) throw new Error(`outputs differ for ${d.typeName}`);
}
const jsonBytes = viaProtobufEs(klinesDesc, klines).length;

function time(fn: () => unknown, iterations: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return (performance.now() - t0) / iterations;
}

const rounds = 9;
const r = { ke: [] as number[], kd: [] as number[], qe: [] as number[], qd: [] as number[] };
for (let i = 0; i < rounds; i++) {
  r.ke.push(time(() => viaProtobufEs(klinesDesc, klines), 200));
  r.kd.push(time(() => direct(klinesDesc, klines), 200));
  r.qe.push(time(() => viaProtobufEs(quoteDesc, quote), 50_000));
  r.qd.push(time(() => direct(quoteDesc, quote), 50_000));
}
// Median of the rounds after the first (warm-up).
const med = (xs: number[]) => xs.slice(1).sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } }; process?: { version: string } };
const runtime = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${g.process?.version}`;
const [ke, kd, qe, qd] = [med(r.ke), med(r.kd), med(r.qe), med(r.qd)];
console.log(`${runtime}: GetKLines(limit=1000) reply ${klines.length} B binary -> ${jsonBytes} B JSON; writer stats ${JSON.stringify(writer.stats)}`);
console.log(`  GetKLines  protobuf-es ${(ke * 1000).toFixed(0).padStart(5)} us (${(jsonBytes / ke / 1000).toFixed(0)} MB/s)   direct ${(kd * 1000).toFixed(0).padStart(5)} us (${(jsonBytes / kd / 1000).toFixed(0)} MB/s)   x${(ke / kd).toFixed(1)}`);
console.log(`  Quote      protobuf-es ${(qe * 1000).toFixed(2).padStart(5)} us               direct ${(qd * 1000).toFixed(2).padStart(5)} us               x${(qe / qd).toFixed(1)}`);
