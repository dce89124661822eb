import type { TcpConnection } from "../../runtime/index.ts";
import type { FlowCounters } from "./connection-flow.ts";

/** Re-check interval while blocked on writes that will not emit drain (queue below the runtime's own mark). */
const POLL_MS = 10;

/**
 * Write side of a connection's back-pressure: `blocked` turns on when the bytes queued in user
 * space exceed the high-water mark and off once they are at or below the low-water mark;
 * `onUnblock` is called then. Hysteresis keeps reading from flapping on every reply.
 */
export class WriteWatermark {
  readonly #tcp: TcpConnection;
  readonly #high: number;
  readonly #low: number;
  readonly #counters: FlowCounters;
  readonly #onUnblock: () => void;
  #blocked = false;
  #poll: ReturnType<typeof setTimeout> | undefined;

  constructor(tcp: TcpConnection, high: number, low: number, counters: FlowCounters, onUnblock: () => void) {
    this.#tcp = tcp;
    this.#high = high;
    this.#low = low;
    this.#counters = counters;
    this.#onUnblock = onUnblock;
  }

  get blocked(): boolean {
    return this.#blocked;
  }

  /** Writes, and reports whether this write turned `blocked` on. */
  write(bytes: Uint8Array): boolean {
    const drainComing = !this.#tcp.write(bytes);
    const queued = this.#tcp.bufferedAmount;
    if (queued > this.#counters.peakOutboundBytes) this.#counters.peakOutboundBytes = queued;
    if (queued <= this.#high || this.#blocked || this.#tcp.closed) return false;
    this.#blocked = true;
    // write() returned true (queue under the runtime's own mark): no drain event will come, so poll.
    if (!drainComing) this.#startPoll();
    return true;
  }

  /** On drain, when a call ends, on poll: unblock if the queue is low enough. */
  check(): void {
    if (!this.#blocked || this.#tcp.closed || this.#tcp.bufferedAmount > this.#low) return;
    this.#blocked = false;
    this.#onUnblock();
  }

  dispose(): void {
    if (this.#poll !== undefined) clearTimeout(this.#poll);
    this.#poll = undefined;
  }

  #startPoll(): void {
    if (this.#poll !== undefined) return;
    this.#poll = setTimeout(() => {
      this.#poll = undefined;
      this.check();
      if (this.#blocked && !this.#tcp.closed) this.#startPoll();
    }, POLL_MS);
  }
}
