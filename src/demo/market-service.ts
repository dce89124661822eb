// market.v1.MarketService handlers: a brokerage-style demo with in-memory state.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { GatewayError, GrpcCode, sleep } from "../core/index.ts";
import type { HandlerContext, HandlerMap } from "../backend/index.ts";

const INTERVALS: Readonly<Record<string, number>> = { "1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000 };

interface Order {
  clientOrderId: string; orderId: string; symbol: string; side: number; quantity: string; price: string; status: number;
  createdAt: ReturnType<typeof timestampFromMs>;
}

export interface MarketOptions {
  /** How long PlaceOrder takes, like an exchange round trip. */
  readonly orderLatencyMs: number;
}

export interface MarketStats {
  ordersPlaced: number;
  ordersCancelled: number;
}

/** Deterministic pseudo-random numbers per symbol, so replies are stable across calls. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

export function marketHandlers(o: MarketOptions, stats: MarketStats): HandlerMap {
  const orders = new Map<string, Order>();
  let nextOrder = 1;
  return {
    "market.v1.MarketService/GetKLines": (req: { symbol: string; interval: string; limit: number; endTime: bigint }) => {
      const interval = req.interval || "1m";
      const step = INTERVALS[interval];
      if (!step) throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: "bad_interval", message: `unknown interval "${interval}" (one of ${Object.keys(INTERVALS).join(", ")})` });
      const limit = req.limit === 0 ? 500 : req.limit;
      if (limit < 0 || limit > 5000) throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: "bad_limit", message: "limit must be between 1 and 5000" });
      const end = req.endTime > 0n ? Number(req.endTime) : 1_763_769_600_000; // fixed default keeps replies reproducible
      const rand = rng(hash(req.symbol + interval));
      let price = 100 + (hash(req.symbol) % 50_000);
      const klines = [];
      const start = Math.floor(end / step) * step - (limit - 1) * step;
      for (let i = 0; i < limit; i++) {
        const open = price;
        const close = Math.max(0.01, open * (1 + (rand() - 0.5) * 0.01));
        const high = Math.max(open, close) * (1 + rand() * 0.003);
        const low = Math.min(open, close) * (1 - rand() * 0.003);
        const volume = round(rand() * 250, 6);
        const t = start + i * step;
        klines.push({
          openTime: BigInt(t), open: round(open, 2), high: round(high, 2), low: round(low, 2), close: round(close, 2),
          volume, closeTime: BigInt(t + step - 1), trades: BigInt(Math.floor(rand() * 5000)), quoteVolume: round(volume * close, 4),
        });
        price = close;
      }
      return { symbol: req.symbol, interval, klines };
    },
    "market.v1.MarketService/StreamQuotes": async function* (req: { symbol: string; count: number; intervalMs: number }, ctx: HandlerContext) {
      const count = req.count === 0 ? 10 : req.count;
      const rand = rng(hash(req.symbol));
      let last = 100 + (hash(req.symbol) % 50_000);
      for (let i = 1; i <= count; i++) {
        if (req.intervalMs > 0) await sleep(req.intervalMs, ctx.signal);
        last = last * (1 + (rand() - 0.5) * 0.002);
        yield { symbol: req.symbol, seq: BigInt(i), bid: round(last * 0.9995, 2), ask: round(last * 1.0005, 2), last: round(last, 2), time: timestampFromMs(Date.now()) };
      }
    },
    "market.v1.MarketService/PlaceOrder": async (req: Omit<Order, "orderId" | "status" | "createdAt">, ctx: HandlerContext) => {
      if (!req.clientOrderId) throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: "bad_order", message: "client_order_id is required" });
      if (req.side !== 1 && req.side !== 2) throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: "bad_order", message: "side must be BUY or SELL" });
      if (!/^\d+(\.\d+)?$/.test(req.quantity) || Number(req.quantity) <= 0) {
        throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: "bad_order", message: "quantity must be a positive decimal string" });
      }
      const existing = orders.get(req.clientOrderId);
      if (existing) throw new GatewayError({ code: GrpcCode.ALREADY_EXISTS, reason: "duplicate_order", message: `order ${req.clientOrderId} already exists` });
      try {
        // The exchange round trip. Cancellation before it ends means the order is not placed.
        await sleep(o.orderLatencyMs, ctx.signal);
      } catch {
        stats.ordersCancelled++;
        throw new GatewayError({ code: GrpcCode.CANCELLED, reason: "cancelled", message: "order cancelled before it was placed" });
      }
      const order: Order = {
        clientOrderId: req.clientOrderId, orderId: `O${String(nextOrder++).padStart(8, "0")}`, symbol: req.symbol, side: req.side,
        quantity: req.quantity, price: req.price, status: 1, createdAt: timestampFromMs(Date.now()),
      };
      orders.set(order.clientOrderId, order);
      stats.ordersPlaced++;
      return order;
    },
    "market.v1.MarketService/GetOrder": (req: { clientOrderId: string }) => {
      const order = orders.get(req.clientOrderId);
      if (!order) throw new GatewayError({ code: GrpcCode.NOT_FOUND, reason: "order_not_found", message: `order ${req.clientOrderId} not found` });
      return order;
    },
  };
}
