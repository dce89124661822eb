// An HTTP/2 session that opens once its TLS material is loaded. The material is read from files for every
// new connection, so a renewed certificate or key on disk is used by the next connection without a restart.
// Until it opens the session is "connecting": no streams; close/destroy end it and report the close.
import type { H2Session, H2SessionEvents, H2Stream, H2TlsOptions } from "../../runtime/index.ts";

/** RFC 9113 6.5.2: assume 100 concurrent streams until the server's SETTINGS say otherwise. */
const DEFAULT_MAX_STREAMS = 100;

export function openWhenLoaded(load: () => Promise<H2TlsOptions>, open: (tls: H2TlsOptions) => H2Session, events: H2SessionEvents): H2Session {
  return new DeferredSession(load, open, events);
}

class DeferredSession implements H2Session {
  readonly ready: Promise<void>;
  #inner: H2Session | undefined;
  /** Ended before the real session opened. */
  #ended = false;
  #unref = false;
  #events: H2SessionEvents;
  #reject!: (e: unknown) => void;

  constructor(load: () => Promise<H2TlsOptions>, open: (tls: H2TlsOptions) => H2Session, events: H2SessionEvents) {
    this.#events = events;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#reject = reject;
      let material: Promise<H2TlsOptions>;
      try {
        material = load();
      } catch (e) {
        material = Promise.reject(e);
      }
      material.then(
        (tls) => {
          if (this.#ended) return;
          const inner = open(tls);
          this.#inner = inner;
          if (this.#unref) inner.unref();
          inner.ready.then(resolve, reject);
        },
        (e: unknown) => this.#end(e instanceof Error ? e : new Error(String(e))),
      );
    });
    this.ready.catch(() => {});
  }

  get maxConcurrentStreams(): number {
    return this.#inner?.maxConcurrentStreams ?? DEFAULT_MAX_STREAMS;
  }

  get closed(): boolean {
    return this.#inner ? this.#inner.closed : this.#ended;
  }

  request(headers: Record<string, string>, options?: { endStream?: boolean }): H2Stream {
    if (!this.#inner) throw new Error("HTTP/2 session is not open yet");
    return this.#inner.request(headers, options);
  }

  ping(timeoutMs: number): Promise<number> {
    return this.#inner ? this.#inner.ping(timeoutMs) : Promise.reject(new Error("HTTP/2 session is not open yet"));
  }

  close(): void {
    if (this.#inner) this.#inner.close();
    else this.#end(undefined);
  }

  destroy(err?: Error): void {
    if (this.#inner) this.#inner.destroy(err);
    else this.#end(err);
  }

  unref(): void {
    if (this.#inner) this.#inner.unref();
    else this.#unref = true;
  }

  #end(err: Error | undefined): void {
    if (this.#ended || this.#inner) return;
    this.#ended = true;
    this.#reject(err ?? new Error("HTTP/2 session closed before it opened"));
    this.#events.close(err);
  }
}
