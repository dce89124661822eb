/** Minimal emitter shape shared by node streams (h2 client/server streams, sockets). */
export interface DrainEmitter {
  once(event: "drain" | "close", fn: () => void): unknown;
  off(event: "drain" | "close", fn: () => void): unknown;
}

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
export function waitForDrain(s: DrainEmitter): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      s.off("drain", go);
      s.off("close", go);
      resolve();
    };
    s.once("drain", go);
    s.once("close", go);
  });
}
