/**
 * Discovery turns configured names into the concrete endpoints the pools connect to.
 * The pool key is always the resolved "ip:port" (`key`), never the host name: pools keyed by
 * name while connections came back under the resolved IP is a failure we design against.
 */

export interface ResolvedEndpoint {
  /** Resolved IP address (v4 dotted or v6 without brackets). */
  readonly address: string;
  readonly port: number;
  /** Relative weight for the balancer; 0 keeps the endpoint known but takes it out of rotation. */
  readonly weight: number;
  /** "ip:port" ("[v6]:port"): the one key pools, balancers and stats use. */
  readonly key: string;
  /** The name it was resolved from, for TLS SNI / :authority and logs. */
  readonly hostname?: string;
}

/** The runtime's `resolveDns` has this shape. */
export type LookupFn = (host: string) => Promise<readonly LookupAddress[]>;

export interface LookupAddress {
  readonly address: string;
  readonly family: 4 | 6;
  /** Seconds the record may be cached (DNS TTL), when known; the DNS resolver refreshes by it. */
  readonly ttl?: number;
}

export type ResolverErrorKind = "lookup_failed" | "lookup_timeout" | "empty_answer";

/** Reported through onError; the resolver keeps running (and retries) after it. */
export interface ResolverErrorEvent {
  /** Which source failed, e.g. "dns:api.internal:8080". */
  readonly source: string;
  readonly kind: ResolverErrorKind;
  /** The lookup's own error (undefined for empty answers). */
  readonly cause: unknown;
  readonly consecutiveFailures: number;
  /** True when the previous endpoint set was kept rather than replaced. */
  readonly keptLastGood: boolean;
  /** Delay before the next attempt, in ms. */
  readonly retryInMs: number;
}

export interface ResolverStats {
  readonly source: string;
  readonly running: boolean;
  readonly endpoints: number;
  readonly lookups: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly lastSuccessAt: number | undefined;
  readonly lastFailureAt: number | undefined;
  readonly lastError: string | undefined;
  /** DNS: the smallest record TTL of the last good answer, in seconds (undefined when the lookup gave none). */
  readonly ttl?: number;
  /** DNS: delay chosen after the last good answer, in ms (from the TTL, clamped; or the refresh interval). */
  readonly refreshInMs?: number;
  /** Children of a merged resolver. */
  readonly sources?: readonly ResolverStats[];
}

export interface Resolver {
  /** Begin resolving. Idempotent. */
  start(): void;
  /** Stop timers and ignore lookups still in flight. Idempotent; the last set stays readable. */
  stop(): void;
  /** The current set, sorted by key (stable order), never mutated in place. */
  current(): readonly ResolvedEndpoint[];
  /** Called with the new set only when it really changed (members, ports or weights). */
  onChange(fn: (endpoints: readonly ResolvedEndpoint[]) => void): () => void;
  onError(fn: (event: ResolverErrorEvent) => void): () => void;
  /** Ask for an early re-resolution (e.g. after connect failures); rate-limited by the source. */
  refresh(): void;
  /** Resolves once the first answer has been accepted (the set may still be empty). */
  ready(): Promise<void>;
  stats(): ResolverStats;
}
