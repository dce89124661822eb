// The attempts of one streaming call (the first, and the transparent never-sent retry) seen by the
// caller as one stream: messages come from the attempt in use, and an attempt that failed before it
// was sent hands over to its retry without the caller noticing.
import type { GatewayError } from "../core/index.ts";
import type { StreamReply } from "../upstream/index.ts";
import type { ReplayableRequests } from "./replayable-requests.ts";

/** Request bytes kept for replay by a stream's never-sent retry (the default maxBodyBytes). */
export const REPLAY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface StreamAttempt {
  /** The endpoint it went to. */
  readonly key: string;
  readonly reply: StreamReply;
  readonly it: AsyncIterator<Uint8Array>;
  /** A reply message arrived: the call was sent. */
  replied: boolean;
  /** Settles when the attempt ended: with the retry attempt if one was started, else undefined. */
  next: Promise<StreamAttempt | undefined>;
}

/** One StreamReply over a chain of attempts; `name` turns a final failure into the caller's error. */
export function joinAttempts(first: StreamAttempt, src: ReplayableRequests, name: (e: unknown, endpoint: string) => GatewayError): StreamReply {
  let cur = first;
  const metadata = (async () => {
    for (let a = first; ; ) {
      const next = await a.next;
      if (!next) return a.reply.metadata.catch((e: unknown) => Promise.reject(name(e, a.key)));
      a = next;
    }
  })();
  metadata.catch(() => {});
  const messages: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        for (;;) {
          try {
            const r = await cur.it.next();
            if (!r.done && !cur.replied) {
              cur.replied = true;
              src.settle(); // it was sent: no retry, stop keeping request messages
            }
            return r;
          } catch (e) {
            const next = await cur.next; // a retry, or undefined (rejects if the retry couldn't start)
            if (!next) throw name(e, cur.key);
            cur = next;
          }
        }
      },
      return: (): Promise<IteratorResult<Uint8Array>> => {
        src.settle();
        return cur.it.return?.() ?? Promise.resolve({ done: true, value: undefined });
      },
    }),
  };
  return { messages, metadata };
}
