/** Inline keys (HS secrets, SPKI PEM, JWK) imported once and selected by the token header. */
import { importJWK, importSPKI, type CryptoKey } from "jose";
import { textEncoder } from "../../core/index.ts";
import type { JwsAlgorithm, StaticKeyConfig } from "./types.ts";

export interface KeyEntry {
  readonly kid: string | undefined;
  readonly alg: JwsAlgorithm;
  readonly key: CryptoKey | Uint8Array;
}

// RFC 7518 §3.2: an HMAC key at least as long as the hash output.
const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

function checkSecretLength(alg: string, bytes: Uint8Array, index: number): void {
  const min = HMAC_MIN_BYTES[alg];
  if (min !== undefined && bytes.byteLength < min) {
    throw new TypeError(`jwt keys[${index}]: ${alg} secret must be at least ${min} bytes (RFC 7518 §3.2), got ${bytes.byteLength}`);
  }
}

/** The algs a key config will be used with (known without importing). */
export function configuredAlg(k: StaticKeyConfig): JwsAlgorithm | undefined {
  if ("secret" in k) return k.alg ?? "HS256";
  if ("spki" in k) return k.alg;
  return k.alg ?? (k.jwk.alg as JwsAlgorithm | undefined);
}

export async function importStaticKeys(configs: readonly StaticKeyConfig[]): Promise<KeyEntry[]> {
  const out: KeyEntry[] = [];
  for (const [i, k] of configs.entries()) {
    if ("secret" in k) {
      const alg = k.alg ?? "HS256";
      const bytes = typeof k.secret === "string" ? textEncoder.encode(k.secret) : k.secret;
      checkSecretLength(alg, bytes, i);
      out.push({ kid: k.kid, alg, key: bytes });
    } else if ("spki" in k) {
      out.push({ kid: k.kid, alg: k.alg, key: await importSPKI(k.spki, k.alg) });
    } else {
      const alg = configuredAlg(k);
      if (alg === undefined) throw new TypeError(`jwt keys[${i}]: JWK needs "alg" (in the JWK or the key config)`);
      if ("d" in k.jwk) throw new TypeError(`jwt keys[${i}]: a private JWK was given; configure the public key only`);
      const key = await importJWK(k.jwk, alg);
      if (key instanceof Uint8Array) checkSecretLength(alg, key, i);
      out.push({ kid: k.kid ?? k.jwk.kid, alg, key });
    }
  }
  return out;
}

/**
 * Candidates for a token header: same alg, and the kid matches when both sides have one.
 * Exact kid matches come first; keys without a kid serve any kid.
 */
export function selectKeys(entries: readonly KeyEntry[], alg: string, kid: string | undefined): KeyEntry[] {
  const exact: KeyEntry[] = [];
  const wildcard: KeyEntry[] = [];
  for (const e of entries) {
    if (e.alg !== alg) continue;
    if (e.kid === undefined) wildcard.push(e);
    else if (kid === undefined || e.kid === kid) exact.push(e);
  }
  return [...exact, ...wildcard];
}
