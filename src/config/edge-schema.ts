// Config sections for running at the edge: auth, header policy, CORS, metrics, tracing, logs,
// shutdown and reload. Each is a separate zod object; schema.ts adds one line per section.
import { z } from "zod";
import { DEFAULTS } from "./defaults.ts";
import { duration, headerName } from "./primitives.ts";

const HMAC_ALGS = ["HS256", "HS384", "HS512"] as const;
const ASYMMETRIC_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const;
// "none" is deliberately absent (RFC 8725 §3.1): a config naming it is refused with its path.
const ALGS = [...HMAC_ALGS, ...ASYMMETRIC_ALGS] as const;

const authMode = z.enum(["required", "optional", "none"]);

const claimScalar = z.union([z.string(), z.number(), z.boolean()]);
/** `{exists: true}`, a value (equal, or contained in an array claim), or a list (any of). */
const claimMatch = z.union([claimScalar, z.array(claimScalar).min(1), z.object({ exists: z.literal(true) }).strict()]);

/** Per route: a mode, or a mode with claim and scope requirements. */
export const routeAuthSchema = z.union([
  authMode.transform((mode) => ({ mode })),
  z
    .object({
      mode: authMode.default("required"),
      /** Claim name (or dotted path) -> required value. */
      claims: z.record(z.string().min(1), claimMatch).optional(),
      /** All must be granted by the token's "scope"/"scp". */
      scopes: z.array(z.string().min(1)).optional(),
    })
    .strict(),
]);

/**
 * One verification key. Exactly one source: an HMAC secret (inline, from an environment
 * variable, or a file), a PEM public key (inline or file), or a JWK.
 */
const keySchema = z
  .object({
    kid: z.string().min(1).optional(),
    alg: z.enum(ALGS).optional(),
    secret: z.string().min(1).optional(),
    secretEnv: z.string().min(1).optional(),
    secretFile: z.string().min(1).optional(),
    publicKey: z.string().min(1).optional(),
    publicKeyFile: z.string().min(1).optional(),
    jwk: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((k, ctx) => {
    const sources = (["secret", "secretEnv", "secretFile", "publicKey", "publicKeyFile", "jwk"] as const).filter((s) => k[s] !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({ code: "custom", message: `give exactly one of secret, secretEnv, secretFile, publicKey, publicKeyFile, jwk (got ${sources.length === 0 ? "none" : sources.join(", ")})` });
      return;
    }
    const src = sources[0]!;
    const hmac = src === "secret" || src === "secretEnv" || src === "secretFile";
    if (hmac && k.alg !== undefined && !(HMAC_ALGS as readonly string[]).includes(k.alg)) {
      ctx.addIssue({ code: "custom", path: ["alg"], message: `a secret is used with ${HMAC_ALGS.join(", ")}, not ${k.alg}` });
    }
    if ((src === "publicKey" || src === "publicKeyFile") && (k.alg === undefined || (HMAC_ALGS as readonly string[]).includes(k.alg))) {
      ctx.addIssue({ code: "custom", path: ["alg"], message: `a public key needs its algorithm: one of ${ASYMMETRIC_ALGS.join(", ")}` });
    }
    if (src === "jwk" && k.jwk !== undefined && "d" in k.jwk) {
      ctx.addIssue({ code: "custom", path: ["jwk"], message: "this is a private JWK; configure the public key only" });
    }
  });

const da = DEFAULTS.auth;
const jwksSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
    /** An unknown kid triggers a refetch at most this often (rate limit against random-kid tokens). */
    cooldown: duration.default(da.jwks.cooldownMs),
    /** Keys older than this are refetched before use. */
    cacheMaxAge: duration.default(da.jwks.cacheMaxAgeMs),
    timeout: duration.default(da.jwks.timeoutMs),
  })
  .strict();

export const authSchema = z
  .object({
    /** Mode of routes without their own `auth`. */
    mode: authMode.default(da.mode),
    realm: z.string().optional(),
    issuer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Allow-list; default: the algorithms of the keys (all asymmetric ones with jwks). */
    algorithms: z.array(z.enum(ALGS)).min(1).optional(),
    clockSkew: duration.default(da.clockSkewMs),
    requireExp: z.boolean().default(true),
    maxTokenAge: duration.optional(),
    keys: z.array(keySchema).default([]),
    jwks: jwksSchema.optional(),
    /** Claims sent upstream as metadata: a list (name = claimPrefix + claim) or claim -> metadata name. */
    forwardClaims: z.union([z.array(z.string().min(1)), z.record(z.string().min(1), z.string().min(1))]).default([]),
    claimPrefix: z.string().min(1).default(da.claimPrefix),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.keys.length === 0 && a.jwks === undefined) ctx.addIssue({ code: "custom", message: "configure keys or jwks" });
  });

export const headersSchema = z
  .object({
    /**
     * Request headers forwarded upstream as metadata: exact names, or a prefix ending in "*".
     * traceparent, tracestate and x-request-id are always set by the gateway itself.
     */
    forward: z.array(headerName).default([...DEFAULTS.headers.forward]),
  })
  .strict();

export const corsSchema = z
  .object({
    /** "*" or a list of exact origins ("https://app.example.com"). */
    origins: z.union([z.literal("*"), z.array(z.string().min(1)).min(1)]),
    methods: z.array(z.string().min(1)).optional(),
    /** Default: whatever the preflight asks for. */
    allowHeaders: z.array(headerName).optional(),
    exposeHeaders: z.array(headerName).default([...DEFAULTS.cors.exposeHeaders]),
    credentials: z.boolean().default(false),
    maxAge: duration.default(DEFAULTS.cors.maxAgeMs),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Fetch standard, CORS protocol: "*" is not honored for credentialed requests.
    if (c.credentials && c.origins === "*") ctx.addIssue({ code: "custom", path: ["credentials"], message: 'credentials cannot be used with origins "*"; list the origins' });
  });

export const metricsSchema = z.object({ enabled: z.boolean().default(DEFAULTS.metrics.enabled) }).strict();

const dt = DEFAULTS.tracing;
export const tracingSchema = z
  .object({
    serviceName: z.string().min(1).default(dt.serviceName),
    /** Share of new (root) traces sampled; an incoming traceparent's sampled flag is kept. */
    sampleRatio: z.number().min(0).max(1).default(dt.sampleRatio),
    /** Span export over OTLP/HTTP (JSON). */
    otlp: z
      .object({
        /** e.g. http://otel-collector:4318/v1/traces */
        endpoint: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
        headers: z.record(z.string(), z.string()).default({}),
        flushInterval: duration.default(dt.otlp.flushIntervalMs),
        timeout: duration.default(dt.otlp.timeoutMs),
        maxQueueSize: z.number().int().positive().default(dt.otlp.maxQueueSize),
      })
      .strict()
      .optional(),
  })
  .strict();

export const loggingSchema = z
  .object({
    level: z.enum(["debug", "info", "warn", "error"]).default(DEFAULTS.logging.level),
    /** One JSON line per request. */
    accessLog: z.boolean().default(DEFAULTS.logging.accessLog),
  })
  .strict();

export const shutdownSchema = z
  .object({
    /** After SIGTERM: /readyz answers 503 at once, traffic is still served this long (load balancers catch up). */
    drainDelay: duration.default(DEFAULTS.shutdown.drainDelayMs),
    /** Then: stop accepting, wait at most this long for requests in flight, close upstreams, exit 0. */
    timeout: duration.default(DEFAULTS.shutdown.timeoutMs),
  })
  .strict();

export const reloadSchema = z
  .object({
    /** Reload when the config file's content changes (polled; SIGHUP always reloads). */
    watch: z.boolean().default(DEFAULTS.reload.watch),
    interval: duration.default(DEFAULTS.reload.intervalMs),
  })
  .strict();

const d = <S extends z.ZodType>(s: S) => s.default(s.parse({}) as never);

/** The edge sections as they appear in configSchema (defaults filled when a section is absent). */
export const edgeSections = {
  auth: authSchema.optional(),
  headers: d(headersSchema),
  cors: corsSchema.optional(),
  metrics: d(metricsSchema),
  tracing: d(tracingSchema),
  logging: d(loggingSchema),
  shutdown: d(shutdownSchema),
  reload: d(reloadSchema),
};

interface EdgeCheckInput {
  readonly auth?: unknown;
  readonly routes: readonly { readonly auth?: { readonly mode: string } }[];
}

/** Cross-section rules, called from configSchema's superRefine. */
export function checkEdgeConfig(c: EdgeCheckInput, ctx: z.RefinementCtx): void {
  if (c.auth !== undefined) return;
  c.routes.forEach((r, i) => {
    if (r.auth !== undefined && r.auth.mode !== "none") {
      ctx.addIssue({ code: "custom", path: ["routes", i, "auth"], message: `mode "${r.auth.mode}" needs a top-level auth section with keys or jwks` });
    }
  });
}

export type AuthConfig = z.output<typeof authSchema>;
export type AuthKeyConfig = AuthConfig["keys"][number];
export type RouteAuthConfig = z.output<typeof routeAuthSchema>;
export type HeadersConfig = z.output<typeof headersSchema>;
export type CorsConfig = z.output<typeof corsSchema>;
export type TracingConfig = z.output<typeof tracingSchema>;
export type LoggingConfig = z.output<typeof loggingSchema>;
export type ShutdownConfig = z.output<typeof shutdownSchema>;
export type ReloadConfig = z.output<typeof reloadSchema>;
