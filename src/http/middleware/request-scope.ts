// Everything the edge knows about one request, from arrival until its body is sent: request id,
// trace context (ours and the one sent upstream), route, auth, upstream call window, bytes. The
// middleware opens a scope per request and, when the response is complete, hands a RequestRecord
// to the observer (metrics, access log, spans).
import type { MiddlewareHandler } from "hono";
import { childContext, continueTrace, formatTraceparent, type SpanContext } from "../../observability/index.ts";
import type { MethodInfo } from "../../transcode/index.ts";
import type { JwtClaims } from "../auth/index.ts";
import type { HeaderPolicy } from "../header-policy.ts";
import { meterBody, type BodyEnd } from "../metered-body.ts";
import { knownBody } from "../sized-response.ts";
import type { RequestObserver, RequestOutcome, RequestRecord } from "../telemetry/request-record.ts";
import type { AuthGate } from "./auth.ts";

export interface EdgeDeps {
  readonly headerPolicy: HeaderPolicy;
  /** Absent: no route is authenticated. */
  readonly auth?: AuthGate;
  readonly observer?: RequestObserver;
  /** Share of new root traces marked sampled (an incoming traceparent's flag is kept). Default 1. */
  readonly sampleRatio?: number;
  /** True while the gateway drains: responses carry `Connection: close` so clients reconnect elsewhere. */
  readonly draining?: () => boolean;
  /** Paths answered by the gateway itself: their own route label, logged at debug level. */
  readonly adminPaths?: ReadonlySet<string>;
  readonly random?: () => number;
}

// A client-chosen request id is kept when it is short printable ASCII (it ends up in logs and metadata).
const REQUEST_ID_OK = /^[\x21-\x7e]{1,128}$/;

export class RequestScope {
  readonly requestId: string;
  /** The gateway's server span for this request. */
  readonly span: SpanContext;
  readonly ids: { readonly requestId: string; readonly traceId: string };
  readonly #req: Request;
  readonly #edge: EdgeDeps;
  readonly #startMs = Date.now();
  readonly #t0 = performance.now();
  #route = "unmatched";
  #upstream: string | undefined;
  #streaming = false;
  #auth: string | undefined;
  #authMetadata: Readonly<Record<string, string>> = {};
  #claims: JwtClaims | null = null;
  #upstreamSpan: SpanContext | undefined;
  #rpcStart: number | undefined;
  #rpcEnd: number | undefined;
  #finished = false;
  #url: URL | undefined;

  constructor(req: Request, edge: EdgeDeps) {
    this.#req = req;
    this.#edge = edge;
    const given = req.headers.get("x-request-id");
    this.requestId = given !== null && REQUEST_ID_OK.test(given) ? given : crypto.randomUUID();
    const ratio = edge.sampleRatio ?? 1;
    const sampleRoot = ratio >= 1 || (ratio > 0 && (edge.random ?? Math.random)() < ratio);
    this.span = continueTrace(req.headers.get("traceparent"), req.headers.get("tracestate"), { sampleRoot });
    this.ids = { requestId: this.requestId, traceId: this.span.traceId };
    edge.observer?.started();
  }

  /** The request URL, parsed once for the handler and the record. */
  get url(): URL {
    return (this.#url ??= new URL(this.#req.url));
  }

  /**
   * The method is known and has an upstream: label the request, then authenticate. A Response means
   * "denied"; undefined (no auth configured, answered without a promise) or a promise of undefined: go on.
   */
  enter(method: MethodInfo, upstream: string): Promise<Response | undefined> | undefined {
    this.#route = `${method.ref.service}/${method.ref.method}`;
    this.#upstream = upstream;
    this.#streaming = method.kind === "server_streaming" || method.kind === "bidi_streaming";
    const gate = this.#edge.auth;
    if (gate === undefined) return undefined;
    return this.#authenticate(gate, method);
  }

  async #authenticate(gate: AuthGate, method: MethodInfo): Promise<Response | undefined> {
    const r = await gate.check(this.#req, method, this.ids);
    this.#auth = r.label;
    if (!r.ok) return r.response;
    this.#authMetadata = r.metadata;
    this.#claims = r.claims;
    return undefined;
  }

  /** When the request arrived (Date.now() ms): the call's deadline counts from here. */
  get receivedAt(): number {
    return this.#startMs;
  }

  /** The verified token's claims once enter() passed; null without a token or auth. */
  get claims(): JwtClaims | null {
    return this.#claims;
  }

  /**
   * Upstream metadata: allowed client headers, then ours: the request id, a traceparent naming a
   * new client span (child of our server span) as parent, tracestate unchanged, forwarded claims.
   */
  metadata(): Record<string, string> {
    const client = childContext(this.span);
    this.#upstreamSpan = client;
    const own: Record<string, string> = { ...this.#authMetadata, "x-request-id": this.requestId, traceparent: formatTraceparent(client) };
    if (client.traceState !== undefined) own["tracestate"] = client.traceState;
    return this.#edge.headerPolicy.metadata(this.#req.headers, own);
  }

  /** Runs the upstream part of the request, timing it. */
  async rpc(fn: () => Promise<Response>): Promise<Response> {
    this.rpcStarted();
    try {
      return await fn();
    } finally {
      this.rpcEnded();
    }
  }

  /** The upstream part of the request starts (rpc() without a wrapping promise, for the handler). */
  rpcStarted(): void {
    this.#rpcStart = performance.now();
  }

  /** ... and has settled (either way). */
  rpcEnded(): void {
    this.#rpcEnd = performance.now();
  }

  /**
   * Tags the response (request id, Connection: close while draining) and arranges for the record to
   * be emitted once the body is sent. Streaming bodies are metered as they are pulled; a body the
   * handler built as bytes (sizedResponse) is counted as is, and the response is returned tagged, without
   * a promise; other bodies are small and read here (which also gives the error fields of a JSON error body).
   */
  finish(res: Response): Response | Promise<Response> {
    const body = knownBody(res);
    if (body !== undefined && res.status < 400 && !res.bodyUsed) {
      // Headers of a Response we constructed are mutable; tagging them in place sends the same head
      // as copying them into a new Response would.
      if (body.requestId !== this.requestId) res.headers.set("x-request-id", this.requestId);
      if (this.#edge.draining?.()) res.headers.set("connection", "close");
      this.#emit(res.status, undefined, body.size, "done");
      return res;
    }
    return this.#finishCopy(res);
  }

  async #finishCopy(res: Response): Promise<Response> {
    const headers = new Headers(res.headers);
    headers.set("x-request-id", this.requestId);
    if (this.#edge.draining?.()) headers.set("connection", "close");
    const init = { status: res.status, statusText: res.statusText, headers };
    if (res.body !== null && this.#streaming && res.status < 300) {
      let bytes = 0;
      const onAbort = () => this.#emit(res.status, undefined, bytes, "cancelled");
      const signal = this.#req.signal;
      signal.addEventListener("abort", onAbort, { once: true });
      const body = meterBody(
        res.body,
        (n) => (bytes += n),
        (how: BodyEnd) => {
          signal.removeEventListener("abort", onAbort);
          this.#emit(res.status, undefined, bytes, how);
        },
      );
      return new Response(body, init);
    }
    let buf: ArrayBuffer;
    try {
      buf = res.body === null ? new ArrayBuffer(0) : await res.arrayBuffer();
    } catch {
      this.#emit(res.status, undefined, 0, "error");
      throw new Error("response body failed");
    }
    this.#emit(res.status, res.status >= 400 ? errorFields(new Uint8Array(buf)) : undefined, buf.byteLength, "done");
    return new Response(buf, init);
  }

  #emit(status: number, err: ErrorFields | undefined, bytesOut: number, how: BodyEnd): void {
    if (this.#finished) return;
    this.#finished = true;
    const observer = this.#edge.observer;
    if (observer === undefined) return;
    const path = this.url.pathname;
    const admin = this.#route === "unmatched" && (this.#edge.adminPaths?.has(path) ?? false);
    const outcome: RequestOutcome = status < 400 ? "ok" : err?.business !== undefined ? "business_error" : "system_error";
    const len = this.#req.headers.get("content-length");
    const upstreamCalled = this.#rpcStart !== undefined && (status < 400 || err?.upstream !== undefined);
    const span = this.span;
    // Optional fields are added only when present (as spreads of {} would), without the spread copies.
    const rec: Mutable<RequestRecord> = {
      requestId: this.requestId,
      traceId: span.traceId,
      spanId: span.spanId,
      traceFlags: span.flags,
      httpMethod: this.#req.method,
      path,
      route: admin ? path : this.#route,
      status,
      code: status < 400 ? "OK" : (err?.code ?? "UNKNOWN"),
      outcome,
      upstreamCalled,
      startMs: this.#startMs,
      durationMs: performance.now() - this.#t0,
      bytesOut,
      clientGone: how === "cancelled" || this.#req.signal.aborted,
      admin,
    };
    if (span.parentSpanId !== undefined) rec.parentSpanId = span.parentSpanId;
    if (upstreamCalled && this.#upstreamSpan !== undefined) rec.upstreamSpanId = this.#upstreamSpan.spanId;
    if (span.traceState !== undefined) rec.traceState = span.traceState;
    if (this.#upstream !== undefined) rec.upstream = err?.upstream ?? this.#upstream;
    if (err?.endpoint !== undefined) rec.endpoint = err.endpoint;
    if (err?.reason !== undefined) rec.reason = err.reason;
    if (err?.business !== undefined) rec.bizStatus = err.business;
    if (this.#auth !== undefined) rec.auth = this.#auth;
    if (upstreamCalled && this.#rpcStart !== undefined) {
      rec.upstreamStartMs = this.#startMs + (this.#rpcStart - this.#t0);
      rec.upstreamMs = (this.#rpcEnd ?? performance.now()) - this.#rpcStart;
    }
    if (len !== null && /^\d+$/.test(len)) rec.bytesIn = Number(len);
    observer.finished(rec);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface ErrorFields {
  code?: string;
  reason?: string;
  upstream?: string;
  endpoint?: string;
  business?: number;
}

/** Reads the stable public error shape (README "Errors"); anything else yields no fields. */
function errorFields(buf: Uint8Array): ErrorFields | undefined {
  if (buf.byteLength === 0 || buf[0] !== 0x7b /* { */) return undefined;
  try {
    const b = JSON.parse(new TextDecoder().decode(buf)) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const biz = b["business"] as { status?: unknown } | undefined;
    const out: ErrorFields = {};
    const code = str(b["code"]);
    const reason = str(b["reason"]);
    const upstream = str(b["upstream"]);
    const endpoint = str(b["endpoint"]);
    if (code !== undefined) out.code = code;
    if (reason !== undefined) out.reason = reason;
    if (upstream !== undefined) out.upstream = upstream;
    if (endpoint !== undefined) out.endpoint = endpoint;
    if (typeof biz?.status === "number") out.business = biz.status;
    return out;
  } catch {
    return undefined;
  }
}

const scopes = new WeakMap<Request, RequestScope>();

/** Opens the scope of every request and finishes it with the final response. Install first. */
export function requestScopeMiddleware(edge: EdgeDeps): MiddlewareHandler {
  return async (c, next) => {
    const scope = new RequestScope(c.req.raw, edge);
    scopes.set(c.req.raw, scope);
    await next();
    const done = scope.finish(c.res);
    const res = done instanceof Promise ? await done : done;
    // Assigning the same response again would make hono copy it into a new one.
    if (res !== c.res) c.res = res;
  };
}

/**
 * What the middleware and a handler after it do through hono, for a request served without it (see
 * direct-dispatch.ts): open the scope, run the handler, finish with its response. Errors are answered
 * as hono's compose would: by `onError` (the app's error handler); a response replacing one the handler
 * gave keeps that response's headers but its content-type, as hono's Context does; a thrown non-Error
 * is not handled.
 */
export async function serveScoped(req: Request, edge: EdgeDeps, handler: (scope: RequestScope) => Promise<Response>, onError: (e: Error) => Response): Promise<Response> {
  const scope = new RequestScope(req, edge);
  scopes.set(req, scope);
  let res: Response;
  try {
    res = await handler(scope);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    res = onError(e);
  }
  try {
    const done = scope.finish(res);
    return done instanceof Promise ? await done : done;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return replacing(res, onError(e));
  }
}

/** hono's Context `res` setter when a response replaces an earlier one. */
function replacing(earlier: Response, res: Response): Response {
  const out = new Response(res.body, res);
  for (const [k, v] of earlier.headers.entries()) {
    if (k === "content-type") continue;
    if (k === "set-cookie") {
      const cookies = earlier.headers.getSetCookie();
      out.headers.delete("set-cookie");
      for (const cookie of cookies) out.headers.append("set-cookie", cookie);
    } else out.headers.set(k, v);
  }
  return out;
}

/** The request's scope (a fresh, unobserved one when the middleware is not installed). */
export function scopeOf(req: Request, edge: EdgeDeps): RequestScope {
  let s = scopes.get(req);
  if (s === undefined) {
    s = new RequestScope(req, { ...edge, observer: undefined });
    scopes.set(req, s);
  }
  return s;
}
