// HPACK against RFC 7541 Appendix C (C.3-C.6: request/response sequences on one connection, with and
// without Huffman coding, with evictions), plus the decoder's error cases and encoder round trips.
import { describe, expect, test } from "bun:test";
import { HpackDecoder, readInt } from "./hpack-decoder.ts";
import { encodeField, HpackEncoder, writeInt } from "./hpack-encoder.ts";
import { huffmanDecode, huffmanEncode, huffmanLength } from "./hpack-huffman.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

interface Step {
  block: string;
  headers: Record<string, string>;
  table: [string, string][];
  size: number;
}

function run(steps: Step[], maxTableSize = 4096): void {
  const d = new HpackDecoder({ maxTableSize });
  for (const s of steps) {
    expect({ ...d.decode(hex(s.block)) }).toEqual(s.headers);
    expect(d.entries()).toEqual(s.table);
    expect(d.tableSize).toBe(s.size);
    expect(d.malformed).toBeUndefined();
  }
}

const req1 = { ":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com" };
const req2 = { ...req1, "cache-control": "no-cache" };
const req3 = { ":method": "GET", ":scheme": "https", ":path": "/index.html", ":authority": "www.example.com", "custom-key": "custom-value" };
const reqTables: [string, string][][] = [
  [[":authority", "www.example.com"]],
  [["cache-control", "no-cache"], [":authority", "www.example.com"]],
  [["custom-key", "custom-value"], ["cache-control", "no-cache"], [":authority", "www.example.com"]],
];

const res1 = { ":status": "302", "cache-control": "private", date: "Mon, 21 Oct 2013 20:13:21 GMT", location: "https://www.example.com" };
const res2 = { ...res1, ":status": "307" };
const res3 = {
  ":status": "200",
  "cache-control": "private",
  date: "Mon, 21 Oct 2013 20:13:22 GMT",
  location: "https://www.example.com",
  "content-encoding": "gzip",
  "set-cookie": "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
};
const resTables: [string, string][][] = [
  [["location", "https://www.example.com"], ["date", "Mon, 21 Oct 2013 20:13:21 GMT"], ["cache-control", "private"], [":status", "302"]],
  [[":status", "307"], ["location", "https://www.example.com"], ["date", "Mon, 21 Oct 2013 20:13:21 GMT"], ["cache-control", "private"]],
  [["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"], ["content-encoding", "gzip"], ["date", "Mon, 21 Oct 2013 20:13:22 GMT"]],
];

describe("RFC 7541 Appendix C", () => {
  test("C.1 integer representation", () => {
    // C.1.1 10 with a 5-bit prefix; C.1.2 1337 with a 5-bit prefix; C.1.3 42 at an octet boundary.
    const buf = new Uint8Array(8);
    expect(toHex(buf.subarray(0, writeInt(buf, 0, 10, 5, 0)))).toBe("0a");
    expect(toHex(buf.subarray(0, writeInt(buf, 0, 1337, 5, 0)))).toBe("1f9a0a");
    expect(toHex(buf.subarray(0, writeInt(buf, 0, 42, 8, 0)))).toBe("2a");
    expect(readInt(hex("1f9a0a"), 0, 5)).toEqual([1337, 3]);
    expect(readInt(hex("0a"), 0, 5)).toEqual([10, 1]);
  });

  test("C.3 requests without Huffman coding", () => {
    run([
      { block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", headers: req1, table: reqTables[0]!, size: 57 },
      { block: "8286 84be 5808 6e6f 2d63 6163 6865", headers: req2, table: reqTables[1]!, size: 110 },
      { block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", headers: req3, table: reqTables[2]!, size: 164 },
    ]);
  });

  test("C.4 requests with Huffman coding", () => {
    run([
      { block: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", headers: req1, table: reqTables[0]!, size: 57 },
      { block: "8286 84be 5886 a8eb 1064 9cbf", headers: req2, table: reqTables[1]!, size: 110 },
      { block: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", headers: req3, table: reqTables[2]!, size: 164 },
    ]);
  });

  test("C.5 responses without Huffman coding, 256-byte table with evictions", () => {
    run(
      [
        {
          block:
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
          headers: res1,
          table: resTables[0]!,
          size: 222,
        },
        { block: "4803 3330 37c1 c0bf", headers: res2, table: resTables[1]!, size: 222 },
        {
          block:
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
          headers: res3,
          table: resTables[2]!,
          size: 215,
        },
      ],
      256,
    );
  });

  test("C.6 responses with Huffman coding, 256-byte table with evictions", () => {
    run(
      [
        {
          block: "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
          headers: res1,
          table: resTables[0]!,
          size: 222,
        },
        { block: "4883 640e ffc1 c0bf", headers: res2, table: resTables[1]!, size: 222 },
        {
          block:
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
          headers: res3,
          table: resTables[2]!,
          size: 215,
        },
      ],
      256,
    );
  });

  test("C.4 Huffman strings encode to the RFC's bytes", () => {
    const cases: [string, string][] = [
      ["www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"],
      ["no-cache", "a8eb10649cbf"],
      ["custom-key", "25a849e95ba97d7f"],
      ["custom-value", "25a849e95bb8e8b4bf"],
      ["Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"],
      ["https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"],
    ];
    for (const [s, h] of cases) {
      const out = new Uint8Array(64);
      const n = huffmanEncode(s, out, 0);
      expect(toHex(out.subarray(0, n))).toBe(h);
      expect(huffmanLength(s)).toBe(n);
      expect(huffmanDecode(hex(h), 0, n)).toBe(s);
    }
  });
});

describe("HPACK decoder errors", () => {
  const fails = (block: string, o?: { maxTableSize?: number }) => expect(() => new HpackDecoder(o).decode(hex(block))).toThrow(/HPACK/);

  test("index 0 and indices beyond both tables", () => {
    fails("80");
    fails("be"); // 62: the dynamic table is empty
    fails("7f00"); // literal with indexed name 63, none there
  });

  test("truncated integers and strings", () => {
    fails("ff"); // 7-bit prefix full, continuation missing
    fails("ff80"); // continuation bit set, then nothing
    fails("4005616263"); // name says 5 bytes, 3 present
    fails("40");
  });

  test("integer overflow", () => {
    fails("ffffffffffff7f");
  });

  test("Huffman: EOS in the string, over-long padding, padding that is not 1s", () => {
    fails("0085ffffffffff01"); // a literal name of all 1s: EOS (30 ones) inside the string
    fails("0081ff0161"); // name is one byte of 8 padding bits
    fails("0081000161"); // 0x00: '0' (00000) then 000 padding, not the EOS prefix
  });

  test("table size update above our limit, and after a field", () => {
    fails("3fe21f", { maxTableSize: 4096 }); // 4097 = 31 + 98 + 31 * 128
    expect(() => new HpackDecoder({ maxTableSize: 4097 }).decode(hex("3fe21f"))).not.toThrow();
    fails("82 20");
  });

  test("a size update evicts, and a new limit holds", () => {
    const d = new HpackDecoder({ maxTableSize: 4096 });
    d.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")); // adds 57 bytes
    expect(d.tableSize).toBe(57);
    d.decode(hex("20")); // size 0: empties the table
    expect(d.tableSize).toBe(0);
    expect(() => d.decode(hex("be"))).toThrow(/HPACK/);
  });

  test("an entry larger than the table empties it without error (RFC 7541 4.4)", () => {
    const d = new HpackDecoder({ maxTableSize: 64 });
    d.decode(hex("4003616263 03646566")); // abc: def (38 bytes)
    expect(d.tableSize).toBe(38);
    const big = "x".repeat(40);
    const block = new Uint8Array([0x40, 0x01, 0x79, big.length, ...new TextEncoder().encode(big)]);
    expect({ ...d.decode(block) }).toEqual({ y: big });
    expect(d.tableSize).toBe(0);
  });

  test("header list size limit: fields past it are dropped, decoding continues, the table stays in step", () => {
    const d = new HpackDecoder({ maxHeaderListSize: 60 });
    const h = d.decode(hex("4003616263 03646566 4003676869 036a6b6c")); // two 38-byte fields, both indexed
    expect(d.tooLarge).toBe(true);
    expect({ ...h }).toEqual({ abc: "def" });
    expect(d.entries()).toEqual([["ghi", "jkl"], ["abc", "def"]]);
  });

  test("malformed field lists are flagged: uppercase names, pseudo-header after a regular one", () => {
    const d = new HpackDecoder();
    d.decode(hex("0003414243 0178")); // "ABC: x"
    expect(d.malformed).toContain("invalid header name");
    d.decode(hex("0003616263 0178 88")); // abc: x, then :status 200
    expect(d.malformed).toContain("pseudo-header");
    d.decode(hex("88 0003616263 0178"));
    expect(d.malformed).toBeUndefined();
  });

  test("repeated names come out as arrays", () => {
    const d = new HpackDecoder();
    const h = d.decode(hex("0003616263 0131 0003616263 0132 0003616263 0133"));
    expect(h.abc).toEqual(["1", "2", "3"]);
  });
});

describe("HPACK encoder", () => {
  test("static indices, static names, literals, never-indexed credentials; round trip through the decoder", () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const headers = {
      ":method": "POST",
      ":scheme": "http",
      ":path": "/demo.v1.EchoService/Echo",
      ":authority": "127.0.0.1:50051",
      "content-type": "application/grpc+proto",
      te: "trailers",
      authorization: "Bearer abc",
      "x-custom": "Wert \u00e9", // latin1 byte 0xe9
      "grpc-timeout": "99m",
    };
    for (let i = 0; i < 3; i++) expect({ ...d.decode(e.encode(headers)) }).toEqual(headers);
    expect(d.tableSize).toBe(0); // the encoder never indexes
    expect(toHex(encodeField(":method", "POST"))).toBe("83");
    expect(encodeField("authorization", "x")[0]! & 0xf0).toBe(0x10);
    expect(encodeField("x-custom", "v")[0]).toBe(0x00);
  });

  test("long values and many fields", () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const headers: Record<string, string> = {};
    for (let i = 0; i < 200; i++) headers[`x-h${i}`] = "v".repeat(i * 7);
    expect({ ...d.decode(e.encode(headers)) }).toEqual(headers);
  });

  test("random strings round-trip through Huffman coding", () => {
    for (let n = 0; n < 300; n++) {
      let s = "";
      const len = Math.floor(Math.random() * 40);
      for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(Math.random() * 256));
      const out = new Uint8Array(len * 4 + 1);
      const end = huffmanEncode(s, out, 0);
      expect(huffmanDecode(out, 0, end)).toBe(s);
    }
  });
});
