import { describe, expect, test } from "bun:test";
import { createLogger } from "../observability/index.ts";
import { gracefulShutdown } from "./shutdown.ts";

describe("gracefulShutdown", () => {
  test("not ready first, then the drain delay, then stop with the timeout", async () => {
    const steps: string[] = [];
    const lines: string[] = [];
    const gw = {
      inFlight: 3,
      markDraining: () => steps.push("markDraining"),
      stop: async (o?: { timeoutMs?: number }) => {
        steps.push(`stop(${o?.timeoutMs})`);
      },
    };
    await gracefulShutdown(gw, {
      drainDelayMs: 250,
      timeoutMs: 9000,
      cause: "SIGTERM",
      logger: createLogger({ sink: (l) => lines.push(l) }),
      sleep: async (ms) => {
        steps.push(`sleep(${ms})`);
      },
    });
    expect(steps).toEqual(["markDraining", "sleep(250)", "stop(9000)"]);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["shutdown: draining", "shutdown: stopping"]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ cause: "SIGTERM", drain_delay_ms: 250, in_flight: 3 });
  });

  test("no delay configured: stops right after turning not ready", async () => {
    const steps: string[] = [];
    await gracefulShutdown(
      { inFlight: 0, markDraining: () => steps.push("markDraining"), stop: async () => void steps.push("stop") },
      { drainDelayMs: 0, timeoutMs: 1, cause: "SIGINT", logger: createLogger({ sink: () => {} }), sleep: async () => void steps.push("sleep") },
    );
    expect(steps).toEqual(["markDraining", "stop"]);
  });
});
