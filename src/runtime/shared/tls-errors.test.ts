import { describe, expect, test } from "bun:test";
import { makeTlsError, TLS_ERROR_NAME, tlsError } from "./tls-errors.ts";

const coded = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("tlsError", () => {
  test("verification failures say the certificate is not trusted and keep the runtime's code and text", () => {
    for (const code of ["SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]) {
      const e = tlsError(coded(code, "self-signed certificate in certificate chain"))!;
      expect(e.name).toBe(TLS_ERROR_NAME);
      expect(e.message).toBe(`TLS handshake failed: the server's certificate is not signed by a trusted CA (${code}: self-signed certificate in certificate chain)`);
      expect((e as Error & { code?: string }).code).toBe(code);
    }
  });

  test("name mismatch, expiry, client certificate refusals and ALPN each get their own reason", () => {
    const cases: [string, string][] = [
      ["ERR_TLS_CERT_ALTNAME_INVALID", "not issued for the name or IP checked"],
      ["CERT_HAS_EXPIRED", "has expired"],
      ["CERT_NOT_YET_VALID", "not valid yet"],
      ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "requires a client certificate"],
      ["ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED", "requires a client certificate"],
      ["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "rejected our client certificate"],
      ["ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", "rejected our client certificate"],
      ["ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL", "does not offer HTTP/2 (ALPN h2)"],
      ["ERR_SSL_WRONG_VERSION_NUMBER", "did not answer with TLS"],
      ["ERR_SSL_SOMETHING_NEW", "handshake failed ("],
    ];
    for (const [code, why] of cases) expect(tlsError(coded(code, "x"))!.message).toContain(why);
  });

  test("OpenSSL's own error strings are left out; the code stays", () => {
    const e = tlsError(coded("ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED", "error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED"))!;
    expect(e.message).toBe("TLS handshake failed: the server requires a client certificate (ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED)");
  });

  test("Bun's 'h2 is not supported' is an ALPN failure", () => {
    expect(tlsError(coded("ERR_HTTP2_ERROR", "h2 is not supported"))!.message).toContain("did not select HTTP/2 with ALPN");
    expect(tlsError(coded("ERR_HTTP2_ERROR", "some other h2 failure"))).toBeUndefined();
  });

  test("non-TLS errors are not TLS errors", () => {
    expect(tlsError(coded("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"))).toBeUndefined();
    expect(tlsError(coded("ECONNRESET", "socket hang up"))).toBeUndefined();
    expect(tlsError(new Error("no code"))).toBeUndefined();
    expect(tlsError("a string")).toBeUndefined();
  });

  test("a TlsError passes through unchanged", () => {
    const e = makeTlsError("already classified");
    expect(tlsError(e)).toBe(e);
  });
});
