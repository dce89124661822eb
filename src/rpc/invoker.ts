// Runs one upstream call under the route's policy: deadline, and what a client disconnect does.
// The client's HTTP connection never implicitly aborts a call: with "continue" (the default) the
// call runs to completion or to its own deadline and its result is discarded; with "cancel" the
// client's signal is linked in and aborts the upstream call (RST_STREAM / TTHeader slot freed).
import { Event, GatewayError, GrpcCode, Reason, toGatewayError, type MethodRef } from "../core/index.ts";
import type { StreamReply, UnaryReply } from "../upstream/index.ts";
import type { RouteCallPolicy } from "./call-policy.ts";
import type { UpstreamGroup } from "./upstream-group.ts";

export type DisconnectPolicy = "continue" | "cancel";

export interface RoutePolicy {
  readonly timeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly onClientDisconnect: DisconnectPolicy;
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

  stream(requests: AsyncIterable<Uint8Array>, o: InvokeOptions): Promise<StreamReply> {
    const deadline = this.#deadline(o);
    this.stats.calls++;
    return o.group.stream(requests, { method: o.method, metadata: o.metadata, deadline, signal: o.clientSignal, maxReplyBytes: o.maxReplyBytes });
  }

  #deadline(o: InvokeOptions): number {
    const requested = o.requestedTimeoutMs;
    if (requested !== undefined && requested <= 0) {
      throw new GatewayError({ code: GrpcCode.DEADLINE_EXCEEDED, reason: Reason.upstreamTimeout, message: "deadline already expired; upstream not called" });
    }
    const ms = Math.min(requested ?? o.policy.timeoutMs, o.policy.maxTimeoutMs);
    return Date.now() + ms;
  }
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
