import { GatewayError } from "../../core/index.ts";
import type { UnaryReply } from "../types.ts";

/** setTimeout's largest delay; longer deadlines are clamped (they are never that long in practice). */
const MAX_TIMER_MS = 0x7fffffff;

export interface PendingCallInit {
  readonly seqId: number;
  readonly method: string;
  readonly maxReplyBytes: number | undefined;
  /** ms until the deadline, if any. */
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** The deadline passed or the signal fired: the owner settles the call and frees its slot. */
  readonly onGiveUp: (call: PendingCall, why: "deadline" | "abort", cause?: unknown) => void;
}

/** One call waiting for its reply: a promise settled exactly once, plus its timer and abort listener. */
export class PendingCall {
  readonly seqId: number;
  readonly method: string;
  readonly maxReplyBytes: number | undefined;
  readonly promise: Promise<UnaryReply>;
  #resolve!: (r: UnaryReply) => void;
  #reject!: (e: GatewayError) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #done = false;

  constructor(init: PendingCallInit) {
    this.seqId = init.seqId;
    this.method = init.method;
    this.maxReplyBytes = init.maxReplyBytes;
    this.promise = new Promise<UnaryReply>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (init.timeoutMs !== undefined) {
      this.#timer = setTimeout(() => init.onGiveUp(this, "deadline"), Math.min(MAX_TIMER_MS, Math.max(0, init.timeoutMs)));
    }
    if (init.signal) {
      const signal = init.signal;
      this.#signal = signal;
      this.#onAbort = () => init.onGiveUp(this, "abort", signal.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  get done(): boolean {
    return this.#done;
  }

  /** Returns false if the call was already settled. */
  settle(result: UnaryReply | GatewayError): boolean {
    if (this.#done) return false;
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort) this.#signal?.removeEventListener("abort", this.#onAbort);
    if (GatewayError.is(result)) this.#reject(result);
    else this.#resolve(result);
    return true;
  }
}
