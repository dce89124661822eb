// Counts the bytes of a response body as the client pulls them, and reports when it is over.
// Pull-based with highWaterMark 0, so it adds no buffering: back-pressure passes straight through.

export type BodyEnd = "done" | "cancelled" | "error";

export function meterBody(body: ReadableStream<Uint8Array>, onChunk: (bytes: number) => void, onEnd: (how: BodyEnd) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = (how: BodyEnd) => {
    if (ended) return;
    ended = true;
    onEnd(how);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        try {
          const r = await reader.read();
          if (r.done) {
            ctl.close();
            end("done");
            return;
          }
          onChunk(r.value.byteLength);
          ctl.enqueue(r.value);
        } catch (e) {
          end("error");
          ctl.error(e);
        }
      },
      async cancel(reason) {
        end("cancelled");
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
