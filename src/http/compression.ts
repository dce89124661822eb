// Response compression: Accept-Encoding negotiation (RFC 9110 12.5.3) and Content-Encoding (8.4).
// Whole bodies go through the Web-standard CompressionStream (gzip everywhere; brotli where the
// runtime offers it: Bun and Deno accept the non-standard "brotli" format name, Node does not).
// Streamed replies need a compressor that flushes after every message (otherwise a quote sits in
// the compressor's window until more arrive); CompressionStream can't be told to flush (Bun and
// Node hold the data, Deno flushes each write), so streams are compressed only with a flushing
// compressor supplied by the composition root (`stream`: the runtime port's streamCompressors,
// node:zlib with Z_SYNC_FLUSH / BROTLI_OPERATION_FLUSH per chunk).

export type ContentEncoding = "br" | "gzip";

export interface CompressionOptions {
  /** Off: never compress (Vary is not added either). */
  readonly enabled: boolean;
  /** Whole bodies shorter than this are sent as they are (default 1 KiB). */
  readonly thresholdBytes: number;
  /** Compressors that flush after each chunk written to them, for streamed replies; none = streams go uncompressed. */
  readonly stream?: StreamCompressors;
}

export interface StreamCompressors {
  /** Most preferred first. */
  readonly encodings: readonly ContentEncoding[];
  create(encoding: ContentEncoding): TransformStream<Uint8Array, Uint8Array>;
}

export const defaultCompression: CompressionOptions = { enabled: true, thresholdBytes: 1024 };

const FORMAT: Readonly<Record<ContentEncoding, string>> = { br: "brotli", gzip: "gzip" };
let webFormats: ContentEncoding[] | undefined;

/** Encodings this runtime's CompressionStream can produce, most preferred first (probed once, on first use). */
export function webEncodings(): readonly ContentEncoding[] {
  if (!webFormats) {
    webFormats = [];
    for (const e of ["br", "gzip"] as const) {
      try {
        new CompressionStream(FORMAT[e] as CompressionFormat);
        webFormats.push(e);
      } catch {
        // not offered by this runtime
      }
    }
  }
  return webFormats;
}

/**
 * The encoding to use, or undefined for identity: the highest q-value among `offered` (ties go to
 * the order of `offered`); "*" covers encodings not listed; q=0 refuses.
 */
export function negotiateEncoding(acceptEncoding: string | null, offered: readonly ContentEncoding[]): ContentEncoding | undefined {
  if (!acceptEncoding) return undefined;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    q.set(name.trim(), Number.isFinite(weight) ? weight : 0);
  }
  let best: ContentEncoding | undefined;
  let bestQ = 0;
  for (const e of offered) {
    const w = q.get(e) ?? (e === "gzip" ? q.get("x-gzip") : undefined) ?? q.get("*") ?? 0;
    if (w > bestQ) {
      best = e;
      bestQ = w;
    }
  }
  return best;
}

function addVary(headers: Headers): void {
  const v = headers.get("vary");
  if (!v) headers.set("vary", "Accept-Encoding");
  else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(v)) headers.set("vary", `${v}, Accept-Encoding`);
}

/** A whole reply body, compressed when the client accepts it and it is at least the threshold. */
export function compressedBody(req: Request, body: Uint8Array, headers: Headers, o: CompressionOptions): BodyInit {
  if (!o.enabled) return body as Uint8Array<ArrayBuffer>;
  addVary(headers);
  if (body.byteLength < o.thresholdBytes) return body as Uint8Array<ArrayBuffer>;
  const encoding = negotiateEncoding(req.headers.get("accept-encoding"), webEncodings());
  if (!encoding) return body as Uint8Array<ArrayBuffer>;
  headers.set("content-encoding", encoding);
  headers.delete("content-length");
  const source = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(body);
      ctl.close();
    },
  });
  return source.pipeThrough(new CompressionStream(FORMAT[encoding] as CompressionFormat) as unknown as TransformStream<Uint8Array, Uint8Array>);
}

/** A streamed reply body, compressed message by message when a flushing compressor is available. */
export function compressedStream(req: Request, body: ReadableStream<Uint8Array>, headers: Headers, o: CompressionOptions): ReadableStream<Uint8Array> {
  if (!o.enabled) return body;
  addVary(headers);
  if (!o.stream) return body;
  const encoding = negotiateEncoding(req.headers.get("accept-encoding"), o.stream.encodings);
  if (!encoding) return body;
  headers.set("content-encoding", encoding);
  return body.pipeThrough(o.stream.create(encoding));
}
