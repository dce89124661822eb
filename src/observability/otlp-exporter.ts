/**
 * OTLP/HTTP JSON span exporter (OTLP spec, "OTLP/HTTP": POST ExportTraceServiceRequest
 * as application/json to <collector>/v1/traces). Spans are queued and sent in batches
 * on an interval, when a batch fills up, and on close. A full queue drops new spans
 * and counts them; nothing here ever throws into the caller.
 * Failed batches are counted and dropped, not retried: tracing must never build up
 * memory or load when the collector is down.
 */
import type { Attributes, SpanData } from "./span.ts";
import { encodeExportRequest } from "./otlp-json.ts";

export interface OtlpExporterOptions {
  /** Full endpoint URL, e.g. "http://127.0.0.1:4318/v1/traces". */
  url: string;
  /** `service.name` resource attribute (OTel semantic conventions). */
  serviceName: string;
  resourceAttributes?: Attributes;
  scope?: { name: string; version?: string };
  /** Extra request headers (e.g. collector auth). */
  headers?: Readonly<Record<string, string>>;
  /** Spans held at most; more are dropped. Default 2048. */
  maxQueueSize?: number;
  /** Spans per POST. Default 512. */
  maxBatchSize?: number;
  /** Periodic flush. Default 5000 ms; 0 disables the timer. */
  flushIntervalMs?: number;
  /** Per-request timeout. Default 10000 ms. */
  timeoutMs?: number;
  /** Injected for tests or custom transports; default globalThis.fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Told about every failed export (never rethrown). */
  onError?: (error: unknown) => void;
}

export interface OtlpExporterStats {
  readonly queued: number;
  /** Dropped because the queue was full or the exporter closed. */
  readonly dropped: number;
  /** Accepted by the collector (sent minus partialSuccess.rejectedSpans). */
  readonly exported: number;
  /** Lost in failed requests (network error, timeout, non-2xx). */
  readonly failed: number;
  /** Reported rejected by the collector in partialSuccess. */
  readonly rejected: number;
  readonly requests: number;
}

export class OtlpHttpSpanExporter {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #resource: { attributes: Attributes; scope: { name: string; version?: string } };
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #timeoutMs: number;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #queue: SpanData[] = [];
  #chain: Promise<void> = Promise.resolve();
  #autoFlushScheduled = false;
  #closed = false;
  #dropped = 0;
  #exported = 0;
  #failed = 0;
  #rejected = 0;
  #requests = 0;

  constructor(options: OtlpExporterOptions) {
    this.#url = options.url;
    this.#headers = { "content-type": "application/json", ...options.headers };
    this.#resource = {
      attributes: { ...options.resourceAttributes, "service.name": options.serviceName },
      scope: options.scope ?? { name: "sluice" },
    };
    this.#maxQueue = Math.max(1, options.maxQueueSize ?? 2048);
    this.#maxBatch = Math.max(1, options.maxBatchSize ?? 512);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#onError = options.onError;
    const interval = options.flushIntervalMs ?? 5000;
    if (interval > 0) {
      this.#timer = setInterval(() => {
        if (this.#queue.length > 0) void this.flush();
      }, interval);
      // Don't keep the process alive just for tracing.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Queues a finished span; false when it was dropped. */
  export(span: SpanData): boolean {
    if (this.#closed || this.#queue.length >= this.#maxQueue) {
      this.#dropped++;
      return false;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#maxBatch && !this.#autoFlushScheduled) {
      this.#autoFlushScheduled = true;
      void this.flush();
    }
    return true;
  }

  /** Sends everything queued now (serialized with any flush in progress). Never rejects. */
  flush(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#drain());
    return this.#chain;
  }

  /** Stops the timer, refuses new spans, sends what is queued. */
  async close(): Promise<void> {
    if (this.#closed) return this.#chain;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.flush();
  }

  stats(): OtlpExporterStats {
    return {
      queued: this.#queue.length,
      dropped: this.#dropped,
      exported: this.#exported,
      failed: this.#failed,
      rejected: this.#rejected,
      requests: this.#requests,
    };
  }

  async #drain(): Promise<void> {
    this.#autoFlushScheduled = false;
    // Only what is queued now: under sustained load a flush must still finish.
    let budget = this.#queue.length;
    while (budget > 0 && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, Math.min(this.#maxBatch, budget));
      budget -= batch.length;
      await this.#send(batch);
    }
  }

  async #send(batch: SpanData[]): Promise<void> {
    this.#requests++;
    try {
      const body = JSON.stringify(encodeExportRequest(batch, this.#resource));
      const res = await this.#fetch(this.#url, {
        method: "POST",
        headers: this.#headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`OTLP export failed: HTTP ${res.status}`);
      const rejected = rejectedSpans(text);
      this.#rejected += rejected;
      this.#exported += batch.length - rejected;
    } catch (e) {
      this.#failed += batch.length;
      try {
        this.#onError?.(e);
      } catch {
        // A broken error hook must not break the exporter.
      }
    }
  }
}

/** ExportTraceServiceResponse.partialSuccess.rejectedSpans (int64: string or number in JSON). */
function rejectedSpans(body: string): number {
  if (body === "") return 0;
  try {
    const parsed = JSON.parse(body) as { partialSuccess?: { rejectedSpans?: string | number } };
    const n = Number(parsed.partialSuccess?.rejectedSpans ?? 0);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0; // a 2xx with a non-JSON body is still a success
  }
}
