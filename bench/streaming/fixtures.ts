// The bytes every streaming benchmark process agrees on: the 1,000-candle GetKLines reply of the
// market demo, a set of Quotes, and their JSON forms (as the gateway prints them).
import { create, toBinary, toJson, fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { marketHandlers } from "../../src/demo/market-service.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";

export const DESCRIPTORS = decodeURIComponent(new URL("../../idl/descriptors.binpb", import.meta.url).pathname);
export const registry = registryFromDescriptorSets([readFileSync(DESCRIPTORS)]);
const msg = (n: string): DescMessage => registry.getMessage(n)!;

export const klinesDesc = msg("market.v1.GetKLinesResponse");
export const quoteDesc = msg("market.v1.Quote");
export const echoResponseDesc = msg("demo.v1.EchoResponse");

export async function klinesReply(): Promise<Uint8Array> {
  const handlers = marketHandlers({ orderLatencyMs: 0 }, { ordersPlaced: 0, ordersCancelled: 0 });
  const reply = await (handlers["market.v1.MarketService/GetKLines"] as (r: unknown) => unknown)({ symbol: "BTCUSDT", interval: "1m", limit: 1000, endTime: 0n });
  return toBinary(klinesDesc, create(klinesDesc, reply as never));
}

/** 1,000 distinct quotes (a random walk), as the demo streams them. */
export function quotes(): Uint8Array[] {
  const out: Uint8Array[] = [];
  let last = 64000;
  for (let i = 1; i <= 1000; i++) {
    last *= 1 + (Math.sin(i * 12.9898) * 43758.5453 % 1) * 0.001;
    const r = (v: number) => Math.round(v * 100) / 100;
    out.push(toBinary(quoteDesc, create(quoteDesc, { symbol: "BTCUSDT", seq: BigInt(i), bid: r(last * 0.9995), ask: r(last * 1.0005), last: r(last), time: { seconds: 1763769600n + BigInt(i), nanos: (i * 7919 % 1000) * 1_000_000 } } as never)));
  }
  return out;
}

export function echoBlob(size: number): Uint8Array {
  const blob = new Uint8Array(size);
  for (let i = 0; i < size; i++) blob[i] = i & 0xff;
  return toBinary(echoResponseDesc, create(echoResponseDesc, { text: "m", n: 1n, blob } as never));
}

export function jsonOf(desc: DescMessage, bytes: Uint8Array): string {
  return JSON.stringify(toJson(desc, fromBinary(desc, bytes), { registry }));
}

/** gRPC length-prefixed message. */
export function envelope(m: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + m.length);
  new DataView(out.buffer).setUint32(1, m.length);
  out.set(m, 5);
  return out;
}
