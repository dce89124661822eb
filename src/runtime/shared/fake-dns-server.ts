// Test support (not exported from the runtime port): a tiny authoritative DNS server on UDP loopback,
// so discovery tests can run the real resolver against answers (and TTLs) they control.
// Wire format: RFC 1035 §4.1 (header, question, resource records); AAAA: RFC 3596 §2.
import dgram from "node:dgram";
import net from "node:net";

export interface FakeDnsRecords {
  /** IPv4 addresses answered for A queries. */
  readonly a?: readonly string[];
  /** IPv6 addresses answered for AAAA queries. */
  readonly aaaa?: readonly string[];
  /** TTL in seconds put on every record. */
  readonly ttl: number;
}

export interface FakeDnsQuery {
  readonly name: string;
  /** "A", "AAAA" or the numeric type for anything else. */
  readonly type: string;
  /** Date.now() when it arrived. */
  readonly at: number;
}

export interface FakeDnsServer {
  /** "127.0.0.1:port", ready for setServers(). */
  readonly address: string;
  readonly port: number;
  /** Every query received, in order. */
  readonly queries: FakeDnsQuery[];
  /** Sets (or replaces) the answer for a name (case-insensitive, no trailing dot). */
  set(name: string, records: FakeDnsRecords): void;
  /** Forget a name: it answers NXDOMAIN again. */
  remove(name: string): void;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/** Starts the server on 127.0.0.1 (port 0 = ephemeral). Unknown names get NXDOMAIN. */
export function startFakeDnsServer(port = 0): Promise<FakeDnsServer> {
  const zone = new Map<string, FakeDnsRecords>();
  const queries: FakeDnsQuery[] = [];
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const reply = answer(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), zone, queries);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "127.0.0.1", () => {
      socket.off("error", reject);
      socket.on("error", () => {}); // a stray ICMP error must not crash the test process
      const bound = socket.address().port;
      resolve({
        address: `127.0.0.1:${bound}`,
        port: bound,
        queries,
        set: (name, records) => void zone.set(normalize(name), records),
        remove: (name) => void zone.delete(normalize(name)),
        close: () => new Promise<void>((r) => socket.close(() => r())),
      });
    });
  });
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** Builds the reply to one query, or undefined for a packet that is not a query we can parse. */
function answer(q: Uint8Array, zone: ReadonlyMap<string, FakeDnsRecords>, log: FakeDnsQuery[]): Uint8Array | undefined {
  if (q.length < 12) return undefined;
  const view = new DataView(q.buffer, q.byteOffset, q.byteLength);
  const flags = view.getUint16(2);
  if (flags & 0x8000 || view.getUint16(4) !== 1) return undefined; // a response, or not exactly one question
  // QNAME: length-prefixed labels ending with a zero byte (no compression in questions).
  let i = 12;
  const labels: string[] = [];
  while (i < q.length && q[i] !== 0) {
    const len = q[i]!;
    if (len > 63 || i + 1 + len > q.length) return undefined;
    labels.push(new TextDecoder().decode(q.subarray(i + 1, i + 1 + len)));
    i += 1 + len;
  }
  if (i + 5 > q.length) return undefined;
  const questionEnd = i + 5;
  const qtype = view.getUint16(i + 1);
  const qclass = view.getUint16(i + 3);
  const name = normalize(labels.join("."));
  log.push({ name, type: qtype === TYPE_A ? "A" : qtype === TYPE_AAAA ? "AAAA" : String(qtype), at: Date.now() });

  const records = zone.get(name);
  let rcode = 0;
  let rdatas: Uint8Array[] = [];
  if (qclass !== CLASS_IN) rcode = RCODE_NOTIMP;
  else if (!records) rcode = RCODE_NXDOMAIN;
  else if (qtype === TYPE_A) rdatas = (records.a ?? []).map(ipv4Bytes);
  else if (qtype === TYPE_AAAA) rdatas = (records.aaaa ?? []).map(ipv6Bytes);
  // Any other type of a known name: NOERROR with no answers (NODATA).

  const question = q.subarray(12, questionEnd);
  const out = new Uint8Array(12 + question.length + rdatas.reduce((n, r) => n + 12 + r.length, 0));
  const w = new DataView(out.buffer);
  w.setUint16(0, view.getUint16(0)); // same id
  // QR=1, opcode copied, AA=1, RD copied, RA=1, rcode.
  w.setUint16(2, 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode);
  w.setUint16(4, 1);
  w.setUint16(6, rdatas.length);
  out.set(question, 12);
  let o = 12 + question.length;
  for (const rdata of rdatas) {
    w.setUint16(o, 0xc00c); // name: pointer to the question's name at offset 12
    w.setUint16(o + 2, qtype);
    w.setUint16(o + 4, CLASS_IN);
    w.setUint32(o + 6, records!.ttl);
    w.setUint16(o + 10, rdata.length);
    out.set(rdata, o + 12);
    o += 12 + rdata.length;
  }
  return out;
}

function ipv4Bytes(ip: string): Uint8Array {
  if (!net.isIPv4(ip)) throw new RangeError(`not an IPv4 address: ${ip}`);
  return new Uint8Array(ip.split(".").map(Number));
}

function ipv6Bytes(ip: string): Uint8Array {
  if (!net.isIPv6(ip)) throw new RangeError(`not an IPv6 address: ${ip}`);
  const [head = "", tail] = ip.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  all.forEach((g, k) => {
    out[2 * k] = g >> 8;
    out[2 * k + 1] = g & 0xff;
  });
  return out;
}
