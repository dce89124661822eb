import { describe, expect, test } from "bun:test";
import { InFlight } from "./in-flight.ts";

describe("InFlight", () => {
  test("idle() resolves true when the count drops to zero", async () => {
    const f = new InFlight();
    f.enter();
    f.enter();
    const idle = f.idle(1000);
    f.leave();
    expect(f.count).toBe(1);
    f.leave();
    expect(await idle).toBe(true);
    expect(await f.idle(0)).toBe(true);
  });

  test("idle() resolves false after its timeout when requests remain", async () => {
    const f = new InFlight();
    f.enter();
    expect(await f.idle(20)).toBe(false);
    f.leave();
    f.leave(); // never negative
    expect(f.count).toBe(0);
  });
});
