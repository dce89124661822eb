// The per-config edge pieces of the app: JWT gate with per-route requirements, header policy, and
// request accounting for this config (so a reload can wait for the requests that started on it).
import type { AuthConfig, HeadersConfig, RouteAuthConfig } from "../config/index.ts";
import type { MethodInfo } from "../transcode/index.ts";
import { createClaimForwarder, createJwtVerifier, type AuthRequirement, type JwtVerifier } from "./auth/index.ts";
import { authRequirement, verifierOptions, type SecretSource } from "./edge-config.ts";
import { createHeaderPolicy } from "./header-policy.ts";
import { InFlight } from "./in-flight.ts";
import { createAuthGate, type AuthGate } from "./middleware/auth.ts";
import type { EdgeDeps } from "./middleware/request-scope.ts";
import type { RequestObserver } from "./telemetry/request-record.ts";

/** A verifier and the options it was built from: equal options on reload keep it (and its JWKS cache). */
export interface VerifierHandle {
  readonly key: string;
  readonly verifier: JwtVerifier;
}

export interface EdgeDepsOptions {
  readonly auth: AuthConfig | undefined;
  readonly routes: readonly { readonly method: string; readonly auth?: RouteAuthConfig }[];
  readonly headers: HeadersConfig;
  readonly sampleRatio: number;
  /** Whether a route pattern ("pkg.Svc/Method", "pkg.Svc/*", "pkg.*") covers a method. */
  readonly matches: (pattern: string, method: MethodInfo) => boolean;
  readonly secrets: SecretSource;
  /** The running config's verifier, reused when the options are the same. */
  readonly previous?: VerifierHandle;
  /** Process-wide observer (metrics, logs, spans) and in-flight count. */
  readonly observer: RequestObserver;
  readonly inFlight: InFlight;
  readonly draining: () => boolean;
}

export interface EdgeGeneration {
  readonly deps: EdgeDeps;
  readonly verifier: VerifierHandle | undefined;
  /** Requests that started on this config. */
  readonly inFlight: InFlight;
}

/** Rejects (so a reload is refused) when keys cannot be read or imported. */
export async function createEdgeDeps(o: EdgeDepsOptions): Promise<EdgeGeneration> {
  let verifier: VerifierHandle | undefined;
  let gate: AuthGate | undefined;
  let reserved: ((name: string) => boolean) | undefined;
  const a = o.auth;
  if (a !== undefined) {
    const options = await verifierOptions(a, o.secrets);
    const key = JSON.stringify(options);
    if (o.previous?.key === key) verifier = o.previous;
    else {
      const v = createJwtVerifier(options);
      await v.ready(); // bad keys fail here
      verifier = { key, verifier: v };
    }
    const forwarder = createClaimForwarder({ claims: a.forwardClaims, prefix: a.claimPrefix });
    reserved = (n) => forwarder.isReserved(n);
    // The first route whose pattern matches and that sets auth; otherwise the section's mode.
    const requirements = new Map<string, AuthRequirement>();
    const requirementFor = (m: MethodInfo) => {
      let r = requirements.get(m.ref.path);
      if (r === undefined) {
        r = authRequirement(o.routes.find((x) => x.auth !== undefined && o.matches(x.method, m))?.auth, a);
        requirements.set(m.ref.path, r);
      }
      return r;
    };
    gate = createAuthGate({ verifier: verifier.verifier, requirementFor, forwarder });
  }
  const inFlight = new InFlight();
  const observer: RequestObserver = {
    started() {
      inFlight.enter();
      o.inFlight.enter();
      o.observer.started();
    },
    finished(r) {
      inFlight.leave();
      o.inFlight.leave();
      o.observer.finished(r);
    },
  };
  const headerPolicy = createHeaderPolicy({ forward: o.headers.forward, ...(reserved ? { reserved } : {}) });
  return {
    verifier,
    inFlight,
    deps: { headerPolicy, observer, sampleRatio: o.sampleRatio, draining: o.draining, ...(gate ? { auth: gate } : {}) },
  };
}
