// TLS failures of an upstream session, turned into one error with a message that says it is TLS and why.
// The codes are the ones node:tls, Bun (BoringSSL) and Deno (rustls) put on `err.code`; verification codes
// are OpenSSL's X509_V_ERR names (openssl verify(1)), alerts are RFC 8446 section 6.2 descriptions.

/** name of every error made here, for callers that must tell TLS failures from others. */
export const TLS_ERROR_NAME = "TlsError";

const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REJECTED",
  "INVALID_CA",
]);

function why(code: string): string {
  if (UNTRUSTED.has(code)) return "the server's certificate is not signed by a trusted CA";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "the server's certificate is not issued for the name or IP checked";
  if (code === "CERT_HAS_EXPIRED") return "the server's certificate has expired";
  if (code === "CERT_NOT_YET_VALID") return "the server's certificate is not valid yet";
  if (code.endsWith("ALERT_CERTIFICATE_REQUIRED")) return "the server requires a client certificate";
  if (/ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED)$/.test(code)) {
    return "the server rejected our client certificate";
  }
  if (code.endsWith("ALERT_NO_APPLICATION_PROTOCOL")) return "the server does not offer HTTP/2 (ALPN h2)";
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" || code === "ERR_SSL_HTTP_REQUEST") {
    return "the server did not answer with TLS (is it plaintext h2c?)";
  }
  return "handshake failed";
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_SSL_") ||
    code.startsWith("ERR_TLS_") ||
    code.startsWith("CERT_") ||
    UNTRUSTED.has(code) ||
    code.startsWith("UNABLE_TO_") ||
    /^(ERR_)?(TLSV1|SSLV3)_ALERT_/.test(code)
  );
}

/** A TlsError for TLS/certificate failures, undefined for anything else (refused, reset, timeout...). */
export function tlsError(e: unknown): Error | undefined {
  if (!(e instanceof Error)) return undefined;
  if (e.name === TLS_ERROR_NAME) return e;
  const code = (e as { code?: unknown }).code;
  // Bun refuses a server that selected no ALPN protocol itself, as a generic HTTP/2 error.
  if (code === "ERR_HTTP2_ERROR" && /h2 is not supported/.test(e.message)) return makeTlsError("the server did not select HTTP/2 with ALPN", e, code);
  if (typeof code !== "string" || !isTlsCode(code)) return undefined;
  const msg = firstLine(e.message);
  // OpenSSL's own strings ("...:error:0A000460:SSL routines:...") add nothing to the code.
  const detail = msg && !/:error:|SSL routines|OPENSSL_internal/.test(msg) && msg !== code ? `${code}: ${msg}` : code;
  return makeTlsError(`${why(code)} (${detail})`, e, code);
}

export function makeTlsError(detail: string, cause?: unknown, code?: string): Error {
  const err = new Error(`TLS handshake failed: ${detail}`, cause === undefined ? undefined : { cause });
  err.name = TLS_ERROR_NAME;
  if (code) (err as Error & { code?: string }).code = code;
  return err;
}

// OpenSSL messages can carry a "file:line" tail over several lines.
function firstLine(s: string): string {
  return s.split("\n")[0]!.trim();
}
