import { AsyncQueue, GatewayError, GrpcCode, Reason } from "../../core/index.ts";

export interface RequestStreamOptions {
  /** Messages buffered before the producer is told to pause. */
  readonly highWater: number;
  /** The consumer caught up: resume the HTTP/2 stream. */
  readonly onResume: () => void;
  /** How long END_STREAM is held before the iterator reports the end (see below). */
  readonly settleMs: number;
}

/**
 * The request messages of one call, as the handler iterates them.
 *
 * A call cut off by the client (RST_STREAM, connection loss) must not look like a complete
 * upload: once cancel() ran, next() throws the CANCELLED error, even with messages still queued.
 * node:http2 and Bun clients cancel a stream by sending an empty DATA frame with END_STREAM and
 * then RST_STREAM(CANCEL) (seen on the wire with both; Node writes them in two packets), so the
 * end is held for settleMs before the iterator reports it: a reset arriving in that window still
 * turns the end into CANCELLED. A reset after that aborts ctx.signal only.
 */
export class RequestStream<T> implements AsyncIterable<T> {
  readonly #queue: AsyncQueue<T>;
  readonly #settleMs: number;
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  #cancelled: GatewayError | undefined;

  constructor(o: RequestStreamOptions) {
    this.#queue = new AsyncQueue<T>({ highWater: o.highWater, onResume: o.onResume });
    this.#settleMs = o.settleMs;
  }

  /** false: pause the producer until onResume. */
  push(message: T): boolean {
    return this.#queue.push(message);
  }

  /** The client half-closed (END_STREAM). */
  end(): void {
    if (this.#cancelled || this.#endTimer !== undefined) return;
    if (this.#settleMs <= 0) return this.#queue.end();
    this.#endTimer = setTimeout(() => this.#queue.end(), this.#settleMs);
  }

  /** A malformed or oversized message: the iterator throws it after the messages before it. */
  fail(error: unknown): void {
    this.#clearEnd();
    this.#queue.fail(error);
  }

  /** The client reset the stream or went away. */
  cancel(message = "call cancelled by the client (stream reset)"): void {
    if (this.#cancelled) return;
    this.#clearEnd();
    this.#cancelled = new GatewayError({ code: GrpcCode.CANCELLED, reason: Reason.clientCancelled, message });
    this.#queue.fail(this.#cancelled);
  }

  get cancelled(): boolean {
    return this.#cancelled !== undefined;
  }

  /** The call is over: drop the pending end timer. */
  dispose(): void {
    this.#clearEnd();
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#cancelled) throw this.#cancelled;
    const r = await this.#queue.next();
    if (this.#cancelled) throw this.#cancelled;
    return r;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => {
        this.#clearEnd();
        this.#queue.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #clearEnd(): void {
    if (this.#endTimer !== undefined) clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
  }
}
