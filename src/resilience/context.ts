/**
 * The per-attempt context every policy hands inward, and the per-call facts
 * (idempotency, endpoints already used, attempt numbering) that all policies of
 * one call share. Policies never build contexts by hand: they call
 * `enterContext` (at the top of `execute`) and `deriveContext` (for a new
 * signal, deadline or attempt), so a stack of policies shares one call ledger.
 */

export interface AttemptContext {
  /** Aborts when this attempt must stop (caller gone, deadline, lost hedge race). */
  readonly signal: AbortSignal;
  /** Start-order number of this attempt within the call: 0 first, then 1, 2... across retries and hedges. */
  readonly attempt: number;
  /** True when this attempt is a backup (hedged) request. */
  readonly hedge: boolean;
  /** The call may be repeated safely (set once per call by the invoker). */
  readonly idempotent: boolean;
  /** Absolute deadline of the call in Clock ms, when a deadline is known (for grpc-timeout, retry planning). */
  readonly deadlineAt: number | undefined;
  /** Caller identity for per-client limits (API key, tenant, IP); undefined means one shared bucket. */
  readonly clientKey: string | undefined;
  /**
   * Endpoint keys used by attempts of this call so far (including ones still in flight).
   * The invoker passes it to the balancer to prefer a different endpoint than last time;
   * the balancer should still pick from it when nothing else is left.
   */
  readonly excluded: ReadonlySet<string>;
  /** The invoker records the endpoint key this attempt picked; later attempts see it in `excluded`. */
  markEndpoint(key: string): void;
}

/** Per-call facts given to the outermost `execute`; inner policies receive `parent` instead. */
export interface ExecuteOptions {
  /** Default false. Gates retries (except `neverSent` errors) and hedging. Ignored when `parent` is set. */
  idempotent?: boolean;
  /** An absolute deadline already known (e.g. from the client's grpc-timeout); a deadline policy enforces the earlier one. */
  deadlineAt?: number;
  /** Caller identity for the rate limiter. Ignored when `parent` is set. */
  clientKey?: string;
  /** The context of the enclosing policy; `wrap()` sets it so the call's ledger is shared. */
  parent?: AttemptContext;
}

interface Ledger {
  readonly idempotent: boolean;
  readonly clientKey: string | undefined;
  readonly excluded: ReadonlySet<string>;
  mark(key: string): void;
  nextAttempt(): number;
}

function newLedger(idempotent: boolean, clientKey: string | undefined): Ledger {
  const used = new Set<string>();
  let next = 1; // attempt 0 is the root context's
  return { idempotent, clientKey, excluded: used, mark: (k) => void used.add(k), nextAttempt: () => next++ };
}

/** A ledger over a context built outside this module: forwards to it, numbers attempts after it. */
function foreignLedger(parent: AttemptContext): Ledger {
  let next = parent.attempt + 1;
  return {
    idempotent: parent.idempotent,
    clientKey: parent.clientKey,
    excluded: parent.excluded,
    mark: (k) => parent.markEndpoint(k),
    nextAttempt: () => next++,
  };
}

const foreign = new WeakMap<AttemptContext, Ledger>();

class Ctx implements AttemptContext {
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly hedge: boolean;
  readonly deadlineAt: number | undefined;
  readonly #ledger: Ledger;

  constructor(ledger: Ledger, signal: AbortSignal, attempt: number, hedge: boolean, deadlineAt: number | undefined) {
    this.#ledger = ledger;
    this.signal = signal;
    this.attempt = attempt;
    this.hedge = hedge;
    this.deadlineAt = deadlineAt;
  }

  get idempotent(): boolean {
    return this.#ledger.idempotent;
  }
  get clientKey(): string | undefined {
    return this.#ledger.clientKey;
  }
  get excluded(): ReadonlySet<string> {
    return this.#ledger.excluded;
  }
  markEndpoint(key: string): void {
    this.#ledger.mark(key);
  }

  static ledgerOf(ctx: AttemptContext): Ledger {
    if (ctx instanceof Ctx) return ctx.#ledger;
    let l = foreign.get(ctx);
    if (!l) foreign.set(ctx, (l = foreignLedger(ctx)));
    return l;
  }
}

const NEVER = new AbortController().signal;

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** The context a policy starts from: its parent's (with the given signal) or a fresh call. */
export function enterContext(signal: AbortSignal | undefined, options: ExecuteOptions | undefined): AttemptContext {
  const parent = options?.parent;
  if (parent) {
    const deadlineAt = earliest(parent.deadlineAt, options?.deadlineAt);
    const sig = signal ?? parent.signal;
    if (parent instanceof Ctx && sig === parent.signal && deadlineAt === parent.deadlineAt) return parent;
    return new Ctx(Ctx.ledgerOf(parent), sig, parent.attempt, parent.hedge, deadlineAt);
  }
  const ledger = newLedger(options?.idempotent ?? false, options?.clientKey);
  return new Ctx(ledger, signal ?? NEVER, 0, false, options?.deadlineAt);
}

export interface ContextPatch {
  signal?: AbortSignal;
  deadlineAt?: number;
  /** Give the derived context the next attempt number of the call. */
  newAttempt?: boolean;
  hedge?: boolean;
}

/** A child context sharing the parent's call ledger. A patched deadline can only move earlier. */
export function deriveContext(parent: AttemptContext, patch: ContextPatch): AttemptContext {
  const ledger = Ctx.ledgerOf(parent);
  return new Ctx(
    ledger,
    patch.signal ?? parent.signal,
    patch.newAttempt ? ledger.nextAttempt() : parent.attempt,
    patch.hedge ?? parent.hedge,
    earliest(parent.deadlineAt, patch.deadlineAt),
  );
}
