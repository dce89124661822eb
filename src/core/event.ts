/** A tiny typed event: lower layers publish, the composition root subscribes (metrics, logs). */
export type Listener<T> = (value: T) => void;

export class Event<T> {
  #listeners: Listener<T>[] = [];

  on(fn: Listener<T>): () => void {
    this.#listeners.push(fn);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== fn);
    };
  }

  emit(value: T): void {
    for (const l of this.#listeners) {
      try {
        l(value);
      } catch {
        // A broken subscriber must not break the publisher.
      }
    }
  }

  get size(): number {
    return this.#listeners.length;
  }
}
