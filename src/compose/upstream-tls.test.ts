import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/index.ts";
import { defaultServername, loadUpstreamTls } from "./upstreams.ts";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n";

function reader(files: Record<string, string>): { read: (p: string) => Promise<string>; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read: async (p) => {
      reads.push(p);
      const f = files[p];
      if (f === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: "ENOENT" });
      return f;
    },
  };
}

describe("loadUpstreamTls", () => {
  test("reads caFile, certFile and keyFile and passes servername and verification through", async () => {
    const r = reader({ "/c/ca.pem": CERT, "/c/gw.pem": CERT, "/c/gw.key": KEY });
    const tls = await loadUpstreamTls("orders", { caFile: "/c/ca.pem", certFile: "/c/gw.pem", keyFile: "/c/gw.key", servername: "orders.internal", insecureSkipVerify: false }, r.read);
    expect(tls).toEqual({ servername: "orders.internal", ca: CERT, cert: CERT, key: KEY, rejectUnauthorized: true });
    expect(r.reads.sort()).toEqual(["/c/ca.pem", "/c/gw.key", "/c/gw.pem"]);
  });

  test("inline PEM is used as is; insecureSkipVerify turns verification off; absent keys stay absent", async () => {
    const r = reader({});
    expect(await loadUpstreamTls("u", { ca: CERT, insecureSkipVerify: true }, r.read)).toEqual({ ca: CERT, rejectUnauthorized: false });
    expect(r.reads).toEqual([]);
  });

  test("an unreadable file names the upstream, the key and the path", async () => {
    const r = reader({ "ca.pem": CERT });
    await expect(loadUpstreamTls("orders", { caFile: "ca.pem", certFile: "certs/gw.pem", keyFile: "certs/gw.key", insecureSkipVerify: false }, r.read)).rejects.toThrow(
      /^upstream "orders": cannot read tls\.(certFile "certs\/gw\.pem"|keyFile "certs\/gw\.key"): ENOENT/,
    );
  });

  test("a file with the wrong content is refused by key", async () => {
    const swapped = reader({ "gw.pem": KEY, "gw.key": KEY });
    await expect(loadUpstreamTls("u", { certFile: "gw.pem", keyFile: "gw.key", insecureSkipVerify: false }, swapped.read)).rejects.toThrow('upstream "u": tls.certFile "gw.pem" is not a PEM certificate');
    const noKey = reader({ "gw.pem": CERT, "gw.key": CERT });
    await expect(loadUpstreamTls("u", { certFile: "gw.pem", keyFile: "gw.key", insecureSkipVerify: false }, noKey.read)).rejects.toThrow('upstream "u": tls.keyFile "gw.key" is not a PEM private key');
    const encrypted = reader({ "gw.pem": CERT, "gw.key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n" });
    await expect(loadUpstreamTls("u", { certFile: "gw.pem", keyFile: "gw.key", insecureSkipVerify: false }, encrypted.read)).rejects.toThrow('tls.keyFile "gw.key" is encrypted');
  });
});

describe("defaultServername", () => {
  const upstream = (u: Record<string, unknown>) =>
    parseConfig({ descriptors: ["d.binpb"], upstreams: [{ name: "u", tls: {}, ...u }], services: [{ match: "*", upstream: "u" }] }).upstreams[0]!;

  test("the one host name of the upstream: dns.host, or every endpoint's name", () => {
    expect(defaultServername(upstream({ dns: { host: "orders.internal", port: 443 } }))).toBe("orders.internal");
    expect(defaultServername(upstream({ endpoints: ["orders.internal:443", { address: "orders.internal:8443", weight: 2 }] }))).toBe("orders.internal");
  });

  test("none for IPs, several names, or a mix (the certificate is then checked against the IP)", () => {
    expect(defaultServername(upstream({ endpoints: ["10.0.0.1:443"] }))).toBeUndefined();
    expect(defaultServername(upstream({ endpoints: ["[::1]:443"] }))).toBeUndefined();
    expect(defaultServername(upstream({ dns: { host: "10.0.0.1", port: 443 } }))).toBeUndefined();
    expect(defaultServername(upstream({ endpoints: ["a.internal:443", "b.internal:443"] }))).toBeUndefined();
    expect(defaultServername(upstream({ endpoints: ["a.internal:443", "10.0.0.1:443"] }))).toBeUndefined();
  });
});
