// A stream's request messages, readable again from the start by a second attempt. A streaming call that
// failed before it was sent (its connection closed first; gRPC GOAWAY past its stream id) may already
// have pulled messages from the one-shot request source (a generator over the client's body), so the
// transparent retry replays them. Messages are kept only while a retry is still possible and up to a
// byte limit; past it, or once `settle()` is called, nothing more is kept.

export class ReplayableRequests {
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #limitBytes: number;
  /** Pulled messages the live view has not read yet, plus (while recording) the ones it has. */
  #log: Uint8Array[] = [];
  #read = 0;
  #bytes = 0;
  #recording = true;
  #end: { error: unknown } | "done" | undefined;
  #pull: Promise<void> | undefined;
  #generation = 0;
  #closeAsked = false;
  #closed = false;

  constructor(source: AsyncIterable<Uint8Array>, limitBytes: number) {
    this.#it = source[Symbol.asyncIterator]();
    this.#limitBytes = limitBytes;
  }

  /** Whether a new view would see every message from the start. */
  get replayable(): boolean {
    return this.#recording;
  }

  /** No retry will follow: stop keeping messages (and close the source if the live view asked to). */
  settle(): void {
    if (!this.#recording) return;
    this.#recording = false;
    this.#log.splice(0, this.#read);
    this.#read = 0;
    this.#bytes = 0;
    if (this.#closeAsked) this.#close();
  }

  /** The messages from the start; earlier views end (they belonged to attempts given up). */
  view(): AsyncIterable<Uint8Array> {
    const gen = ++this.#generation;
    this.#read = 0;
    this.#closeAsked = false;
    const done = { done: true as const, value: undefined };
    return {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          for (;;) {
            if (gen !== this.#generation) return done;
            if (this.#read < this.#log.length) {
              const value = this.#recording ? this.#log[this.#read++]! : this.#log.shift()!;
              return { done: false, value };
            }
            if (this.#end === "done") return done;
            if (this.#end) throw this.#end.error;
            await (this.#pull ??= this.#pullOne());
          }
        },
        return: async (): Promise<IteratorResult<Uint8Array>> => {
          // The attempt stopped reading. Keep the source open while a retry may still need it.
          if (gen === this.#generation) {
            if (this.#recording) this.#closeAsked = true;
            else this.#close();
          }
          return done;
        },
      }),
    };
  }

  async #pullOne(): Promise<void> {
    try {
      const r = await this.#it.next();
      if (r.done) this.#end = "done";
      else {
        this.#log.push(r.value);
        if (this.#recording) {
          this.#bytes += r.value.byteLength;
          if (this.#bytes > this.#limitBytes) this.settle(); // too much to keep: no replay
        }
      }
    } catch (e) {
      this.#end = { error: e };
    } finally {
      this.#pull = undefined;
    }
  }

  #close(): void {
    if (this.#closed || this.#end) return;
    this.#closed = true;
    void Promise.resolve(this.#it.return?.()).catch(() => {});
  }
}
