// Framing of streamed replies for HTTP: NDJSON (default), SSE, or one JSON array.
// NDJSON: http://ndjson.org (one JSON text per line). SSE: WHATWG HTML, "Server-sent events".
export type StreamFormat = "ndjson" | "sse" | "json-array";

export const STREAM_CONTENT_TYPES: Readonly<Record<StreamFormat, string>> = {
  ndjson: "application/x-ndjson",
  sse: "text/event-stream",
  "json-array": "application/json",
};

/** Picks the format from an Accept header; NDJSON unless the client asks for SSE or plain JSON. */
export function streamFormatFor(accept: string | null | undefined): StreamFormat {
  if (!accept) return "ndjson";
  const a = accept.toLowerCase();
  if (a.includes("text/event-stream")) return "sse";
  if (a.includes("application/x-ndjson") || a.includes("application/jsonl") || a.includes("*/*")) return "ndjson";
  if (a.includes("application/json")) return "json-array";
  return "ndjson";
}

export interface StreamFramer {
  readonly contentType: string;
  /** Bytes that open the stream (e.g. "["), may be empty. */
  start(): string;
  message(json: string, index: number): string;
  /** What goes before and after message `index`'s JSON: message(json, i) = prefix(i) + json + suffix. */
  prefix(index: number): string;
  readonly suffix: string;
  /** A final error record after messages were sent. */
  error(errorJson: string, index: number): string;
  end(): string;
}

export function createStreamFramer(format: StreamFormat): StreamFramer {
  const contentType = STREAM_CONTENT_TYPES[format];
  switch (format) {
    case "sse":
      return {
        contentType,
        start: () => "",
        message: (json) => `data: ${json}\n\n`,
        prefix: () => "data: ",
        suffix: "\n\n",
        error: (json) => `event: error\ndata: ${json}\n\n`,
        end: () => "",
      };
    case "json-array":
      return {
        contentType,
        start: () => "[",
        message: (json, i) => (i === 0 ? json : "," + json),
        prefix: (i) => (i === 0 ? "" : ","),
        suffix: "",
        error: (json, i) => (i === 0 ? "" : ",") + `{"error":${json}}`,
        end: () => "]",
      };
    default:
      return {
        contentType,
        start: () => "",
        message: (json) => json + "\n",
        prefix: () => "",
        suffix: "\n",
        error: (json) => `{"error":${json}}\n`,
        end: () => "",
      };
  }
}
