// Our PINGs (RFC 9113 6.7) awaiting their ACK: payload -> round-trip timer.

interface Pending {
  start: number;
  resolve: (ms: number) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PingTracker {
  #pending = new Map<string, Pending>();
  #seq = 0;

  /** A fresh 8-byte payload and the promise of its round-trip time in ms. */
  start(timeoutMs: number): { payload: Uint8Array; rtt: Promise<number> } {
    const payload = new Uint8Array(8);
    const seq = ++this.#seq;
    new DataView(payload.buffer).setFloat64(0, seq);
    const key = keyOf(payload);
    const rtt = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        reject(new Error(`HTTP/2 PING not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
      (timer as { unref?: () => void }).unref?.();
      this.#pending.set(key, { start: performance.now(), resolve, reject, timer });
    });
    return { payload, rtt };
  }

  /** A PING ACK arrived; unknown payloads are ignored. */
  ack(payload: Uint8Array): void {
    const key = keyOf(payload);
    const p = this.#pending.get(key);
    if (!p) return;
    this.#pending.delete(key);
    clearTimeout(p.timer);
    p.resolve(performance.now() - p.start);
  }

  failAll(err: Error): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }
}

function keyOf(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 8; i++) s += String.fromCharCode(b[i] ?? 0);
  return s;
}
