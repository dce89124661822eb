// Test certificates made at test time with the openssl CLI (Debian package `openssl`) in a temp dir:
// a CA, server certificates (one for 127.0.0.1/localhost, one only for backend.test) and a client
// certificate, all signed by that CA, plus a second CA that signed nothing we use.
// Works under bun, node (tsx) and deno (-A): node:child_process, node:fs, node:os only.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  /** A CA that signed none of the certificates below (wrong trust anchor). */
  readonly otherCaFile: string;
  /** SAN IP:127.0.0.1, DNS:localhost; serverAuth. */
  readonly server: CertPair;
  /** SAN DNS:backend.test only; serverAuth. */
  readonly serverBackendTest: CertPair;
  /** CN=sluice-gateway; clientAuth. */
  readonly client: CertPair;
  /** Removes the temp dir. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  } catch (e) {
    const stderr = (e as { stderr?: Uint8Array }).stderr;
    throw new Error(`openssl ${args.join(" ")} failed: ${stderr ? new TextDecoder().decode(stderr) : String(e)}`);
  }
}

// P-256 keys: fast to make, accepted by OpenSSL (node, deno) and BoringSSL (bun).
const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function makeCa(dir: string, name: string, cn: string): void {
  openssl(["req", "-x509", ...KEY, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${cn}`, "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
}

function makeLeaf(dir: string, name: string, cn: string, ext: string): CertPair {
  writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nauthorityKeyIdentifier=keyid\n${ext}\n`);
  openssl(["req", ...KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
  openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`], dir);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

/** Makes a fresh PKI in a new temp dir (a few hundred ms). Throws with openssl's stderr if the CLI fails. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "sluice-tls-"));
  try {
    makeCa(dir, "ca", "Sluice Test CA");
    makeCa(dir, "other-ca", "Some Other CA");
    const server = makeLeaf(dir, "server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
    const serverBackendTest = makeLeaf(dir, "backend-test", "backend.test", "subjectAltName=DNS:backend.test\nextendedKeyUsage=serverAuth");
    const client = makeLeaf(dir, "client", "sluice-gateway", "extendedKeyUsage=clientAuth");
    const caFile = join(dir, "ca.pem");
    return {
      dir,
      caFile,
      ca: readFileSync(caFile, "utf8"),
      otherCaFile: join(dir, "other-ca.pem"),
      server,
      serverBackendTest,
      client,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
