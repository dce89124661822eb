// Runs one upstream call under the route's policy: deadline, and what a client disconnect does.
// The client's HTTP connection never implicitly aborts a call: with "continue" (the default) the
// call runs to completion or to its own deadline and its result is discarded; with "cancel" the
// client's signal is linked in and aborts the upstream call (RST_STREAM / TTHeader slot freed).
// Streams follow the route's own policy only (default "cancel"): with "continue" a server stream whose
// client left runs on under its deadline, read and dropped, and is counted like a unary call.
import { Event, GatewayError, GrpcCode, Reason, toGatewayError, type MethodRef } from "../core/index.ts";
import type { StreamReply, UnaryReply } from "../upstream/index.ts";
import type { RouteCallPolicy } from "./call-policy.ts";
import type { UpstreamGroup } from "./upstream-group.ts";

export type DisconnectPolicy = "continue" | "cancel";

export interface RoutePolicy {
  readonly timeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly onClientDisconnect: DisconnectPolicy;
  /**
   * The route's own onClientDisconnect, for streaming calls; absent means "cancel" (the global default
   * is for unary calls only). With "continue" a server stream whose client left is drained in the background.
   */
  readonly streamOnClientDisconnect?: DisconnectPolicy;
  readonly idempotent: boolean;
  readonly maxBodyBytes: number;
  /** Rate limit, bulkheads, breaker, retries, hedging (absent: one attempt, plus the never-sent retry). */
  readonly calls?: RouteCallPolicy;
}

export interface InvokeOptions {
  readonly group: UpstreamGroup;
  readonly method: MethodRef;
  readonly policy: RoutePolicy;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Fires when the HTTP client goes away. */
  readonly clientSignal?: AbortSignal;
  /** Client-requested timeout (grpc-timeout / X-Sluice-Timeout), capped by policy.maxTimeoutMs. */
  readonly requestedTimeoutMs?: number;
  readonly maxReplyBytes?: number;
  /** Identity for per-client rate limits (IP, or a JWT claim). */
  readonly clientKey?: string;
  /**
   * When the gateway received the request (Date.now() ms; default: now). The deadline counts from
   * here, so time spent before the call (reading the request body) is taken off what goes upstream.
   */
  readonly receivedAt?: number;
}

export interface AfterDisconnect {
  readonly method: string;
  readonly upstream: string;
  readonly ok: boolean;
  readonly code: string;
}

export class Invoker {
  /** A call finished (either way) after its client had left: logged and counted by subscribers. */
  readonly onFinishedAfterClientLeft = new Event<AfterDisconnect>();
  readonly stats = { calls: 0, finishedAfterClientLeft: 0, cancelledByClient: 0 };

  unary(request: Uint8Array, o: InvokeOptions): Promise<UnaryReply> {
    const deadline = this.#deadline(o);
    this.stats.calls++;
    const signal = o.policy.onClientDisconnect === "cancel" ? o.clientSignal : undefined;
    const calls = o.policy.calls;
    const p = calls
      ? calls.policy
          .execute(
            (ctx) =>
              o.group.unary(
                request,
                { method: o.method, metadata: o.metadata, deadline, maxReplyBytes: o.maxReplyBytes, signal: ctx.signal },
                { excluded: ctx.excluded, markEndpoint: (k) => ctx.markEndpoint(k), transparentRetry: !calls.retries },
              ),
            signal,
            { idempotent: o.policy.idempotent, deadlineAt: deadline, clientKey: o.clientKey },
          )
          .catch((e: unknown) => {
            throw namingUpstream(toGatewayError(e), o.group.name);
          })
      : o.group.unary(request, { method: o.method, metadata: o.metadata, deadline, maxReplyBytes: o.maxReplyBytes, signal }, { transparentRetry: true });
    const client = o.clientSignal;
    if (client) {
      const report = (ok: boolean, code: string) => {
        if (!client.aborted) return;
        if (signal) this.stats.cancelledByClient++;
        else {
          this.stats.finishedAfterClientLeft++;
          this.onFinishedAfterClientLeft.emit({ method: o.method.path, upstream: o.group.name, ok, code });
        }
      };
      p.then(
        () => report(true, "OK"),
        (e: GatewayError) => report(false, e.codeName ?? "UNKNOWN"),
      );
    }
    return p;
  }

  /**
   * A streaming call, admitted by the route's rate limit, bulkheads and breaker like a unary call
   * (stream-admission.ts); its bulkhead slots are held until the stream ends.
   */
  async stream(requests: AsyncIterable<Uint8Array>, o: InvokeOptions): Promise<StreamReply> {
    const deadline = this.#deadline(o);
    this.stats.calls++;
    const permit = await o.policy.calls?.streams.admit({ clientKey: o.clientKey, signal: o.clientSignal }).catch((e: unknown) => {
      throw namingUpstream(toGatewayError(e), o.group.name);
    });
    // Streams cancel when their client leaves unless the route itself says "continue".
    const shielded = o.policy.streamOnClientDisconnect === "continue";
    let reply: StreamReply;
    try {
      reply = await o.group.stream(requests, { method: o.method, metadata: o.metadata, deadline, signal: shielded ? undefined : o.clientSignal, maxReplyBytes: o.maxReplyBytes });
    } catch (e) {
      permit?.done(e);
      throw e;
    }
    let messages = reply.messages;
    if (permit) {
      reply.metadata.then(() => permit.done(), (e: unknown) => permit.done(e));
      messages = onFirst(messages, () => permit.replied());
    }
    if (shielded) messages = drainedOnReturn(messages, (ok, code) => this.#finishedAfterClientLeft(o, ok, code));
    return permit || shielded ? { metadata: reply.metadata, messages } : reply;
  }

  #finishedAfterClientLeft(o: InvokeOptions, ok: boolean, code: string): void {
    this.stats.finishedAfterClientLeft++;
    this.onFinishedAfterClientLeft.emit({ method: o.method.path, upstream: o.group.name, ok, code });
  }

  #deadline(o: InvokeOptions): number {
    const requested = o.requestedTimeoutMs;
    if (requested !== undefined && requested <= 0) {
      throw new GatewayError({ code: GrpcCode.DEADLINE_EXCEEDED, reason: Reason.upstreamTimeout, message: "deadline already expired; upstream not called" });
    }
    const ms = Math.min(requested ?? o.policy.timeoutMs, o.policy.maxTimeoutMs);
    const now = Date.now();
    const deadline = Math.min(o.receivedAt ?? now, now) + ms;
    if (deadline <= now) {
      throw new GatewayError({ code: GrpcCode.DEADLINE_EXCEEDED, reason: Reason.upstreamTimeout, message: `deadline of ${ms}ms passed before the call could start (the request took that long to arrive); upstream not called` });
    }
    return deadline;
  }
}

/** The same messages; `fn` runs when the first one arrives. */
function onFirst(messages: AsyncIterable<Uint8Array>, fn: () => void): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = messages[Symbol.asyncIterator]();
      let waiting = true;
      return {
        next: () => {
          if (!waiting) return it.next();
          return it.next().then((r) => {
            if (waiting && !r.done) {
              waiting = false;
              fn();
            }
            return r;
          });
        },
        return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true as const, value: undefined }),
      };
    },
  };
}

/**
 * The same messages, except that `return()` (the reader left) does not cancel the upstream stream: it
 * keeps being read to its end (or its deadline) in the background, each message dropped as it arrives
 * (memory stays bounded), and `done` reports how it ended.
 */
function drainedOnReturn(messages: AsyncIterable<Uint8Array>, done: (ok: boolean, code: string) => void): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = messages[Symbol.asyncIterator]();
      let pending: Promise<unknown> = Promise.resolve();
      let ended = false;
      let draining = false;
      const track = <T>(p: Promise<IteratorResult<T>>): Promise<IteratorResult<T>> => {
        pending = p.then(
          (r) => {
            if (r.done) ended = true;
          },
          () => {
            ended = true;
          },
        );
        return p;
      };
      return {
        next: () => track(it.next()),
        return: (v?: unknown) => {
          if (!draining) {
            draining = true;
            // Wait for a read in progress (the iterator allows one at a time), then read and drop.
            void pending.then(async () => {
              if (ended) return;
              try {
                while (!(await it.next()).done);
                done(true, "OK");
              } catch (e) {
                done(false, toGatewayError(e).codeName ?? "UNKNOWN");
              }
            });
          }
          return Promise.resolve({ done: true as const, value: v as undefined });
        },
      };
    },
  };
}

/**
 * Local refusals from the policies (open circuit, bulkhead, rate limit) carry the policy's name
 * ("upstream demo", "route pkg.Svc/M") in `upstream`; the error body's "upstream" is the upstream's name.
 */
function namingUpstream(err: GatewayError, upstream: string): GatewayError {
  if (err.upstream === upstream) return err;
  return new GatewayError({
    reason: err.reason, code: err.code, message: err.message, cause: err.cause, details: err.details, neverSent: err.neverSent,
    biz: err.biz, pushbackMs: err.pushbackMs, upstream, endpoint: err.endpoint,
  });
}
