import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "./index.ts";

const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

function withTls(tls: unknown, protocol = "grpc") {
  return {
    descriptors: ["idl/descriptors.binpb"],
    upstreams: [{ name: "secure", protocol, endpoints: ["10.0.0.1:443"], tls }],
    services: [{ match: "*", upstream: "secure" }],
  };
}

function issues(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}

describe("upstreams[].tls", () => {
  test("file paths, inline PEM and the defaults parse", () => {
    const files = parseConfig(withTls({ caFile: "./certs/ca.pem", certFile: "certs/gw.pem", keyFile: "/etc/sluice/gw.key", servername: "orders.internal" })).upstreams[0]!.tls;
    expect(files).toEqual({ caFile: "./certs/ca.pem", certFile: "certs/gw.pem", keyFile: "/etc/sluice/gw.key", servername: "orders.internal", insecureSkipVerify: false });
    const inline = parseConfig(withTls({ ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY })).upstreams[0]!.tls;
    expect(inline).toEqual({ ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY, insecureSkipVerify: false });
    expect(parseConfig(withTls({})).upstreams[0]!.tls).toEqual({ insecureSkipVerify: false });
  });

  test("a path given as ca says to use caFile", () => {
    expect(issues(withTls({ ca: "./certs/ca.pem" }))).toEqual([
      'upstreams.0.tls.ca: expected PEM text ("-----BEGIN CERTIFICATE-----"...); to read a file, give caFile',
    ]);
  });

  test("PEM and file for the same thing at once is refused", () => {
    expect(issues(withTls({ ca: PEM_CERT, caFile: "ca.pem" }))).toEqual(["upstreams.0.tls.ca: give ca (PEM text) or caFile (a path), not both"]);
  });

  test("a client certificate needs its key, and a key its certificate", () => {
    expect(issues(withTls({ certFile: "gw.pem" }))).toEqual(["upstreams.0.tls.keyFile: a client certificate needs its private key: give keyFile (or key)"]);
    expect(issues(withTls({ key: PEM_KEY }))).toEqual(["upstreams.0.tls.certFile: a private key needs its client certificate: give certFile (or cert)"]);
  });

  test("an encrypted inline key is refused (there is no passphrase option)", () => {
    const enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----\n";
    expect(issues(withTls({ cert: PEM_CERT, key: enc }))).toEqual(["upstreams.0.tls.key: encrypted private keys are not supported; give an unencrypted PEM key"]);
  });

  test("servername must be a DNS name, not an IP", () => {
    for (const ip of ["10.0.0.1", "::1"]) {
      expect(issues(withTls({ servername: ip }))[0]).toStartWith("upstreams.0.tls.servername: expected a DNS name");
    }
  });

  test("unknown keys are refused (e.g. a misspelt caFile)", () => {
    expect(issues(withTls({ cafile: "ca.pem" }))[0]).toStartWith("upstreams.0.tls:");
  });

  test("tls on a TTHeader upstream is refused rather than ignored", () => {
    expect(issues(withTls({ caFile: "ca.pem" }, "ttheader"))).toEqual(["upstreams.0.tls: tls is supported for grpc upstreams only"]);
  });
});

test("inline PEM of the wrong kind is refused (a key as cert)", () => {
  expect(issues(withTls({ cert: PEM_KEY, key: PEM_KEY }))).toEqual(['upstreams.0.tls.cert: expected PEM text ("-----BEGIN CERTIFICATE-----"...); to read a file, give certFile']);
  expect(issues(withTls({ cert: PEM_CERT, key: PEM_CERT }))).toEqual(['upstreams.0.tls.key: expected PEM text ("-----BEGIN PRIVATE KEY-----"...); to read a file, give keyFile']);
});
