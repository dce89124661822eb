// Hot reload: on SIGHUP, or when the config file's content changes (polled, so it also sees
// Kubernetes ConfigMap updates, which swap a symlink rather than write the file), the file is read
// and validated; a valid config is applied, an invalid one is refused and logged with the paths of
// its errors while the running config keeps serving. Reloads never overlap.
import { ConfigError, type Config } from "../config/index.ts";
import type { Logger } from "../observability/index.ts";

export type ReloadOutcome =
  | { readonly ok: true; readonly summary: unknown }
  /** `issues`: "path: message" lines when validation failed. */
  | { readonly ok: false; readonly error: string; readonly issues?: readonly string[] };

export interface ConfigReloaderOptions {
  readonly path: string;
  readonly readText: (path: string) => Promise<string>;
  /** Validates (throws ConfigError with paths) and applies local overrides (e.g. PORT). */
  readonly parse: (text: string, path: string) => Config;
  /** Swaps the running config; rejects when the config cannot be built (old one stays). */
  readonly apply: (config: Config) => Promise<unknown>;
  readonly logger: Logger;
  /** The text the running config came from (so the first poll does not reload it again). */
  readonly initialText?: string;
  /** Told about files refused before `apply` (unreadable or invalid); `apply` reports its own failures. */
  readonly onRefused?: () => void;
  /**
   * A changed file is read again after this long and used only if it did not change meanwhile,
   * so an editor's non-atomic write is not taken half-way. Default 50.
   */
  readonly settleMs?: number;
}

export class ConfigReloader {
  readonly #o: ConfigReloaderOptions;
  #lastText: string | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;

  constructor(o: ConfigReloaderOptions) {
    this.#o = o;
    this.#lastText = o.initialText;
  }

  /** Reads, validates and applies the file now (after any reload in progress). */
  reload(trigger: string): Promise<ReloadOutcome> {
    const r = this.#chain.then(() => this.#reload(trigger, undefined));
    this.#chain = r;
    return r;
  }

  /** Polls the file every intervalMs and reloads when its content changed. */
  watch(intervalMs: number): void {
    if (this.#timer !== undefined || intervalMs <= 0) return;
    this.#timer = setInterval(() => void this.#poll(), intervalMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      let text: string;
      try {
        text = await this.#o.readText(this.#o.path);
      } catch {
        return; // mid-swap or briefly missing: the next poll sees the new file
      }
      if (text === this.#lastText) return;
      await new Promise((r) => setTimeout(r, this.#o.settleMs ?? 50));
      const again = await this.#o.readText(this.#o.path).catch(() => undefined);
      if (again !== text) return; // still being written: the next poll looks again
      const r = this.#chain.then(() => this.#reload("file change", text));
      this.#chain = r;
      await r;
    } finally {
      this.#polling = false;
    }
  }

  async #reload(trigger: string, known: string | undefined): Promise<ReloadOutcome> {
    const { path, logger } = this.#o;
    let text: string;
    try {
      text = known ?? (await this.#o.readText(path));
    } catch (e) {
      this.#o.onRefused?.();
      return this.#refused(trigger, `cannot read ${path}: ${(e as Error).message}`);
    }
    this.#lastText = text;
    let config: Config;
    try {
      config = this.#o.parse(text, path);
    } catch (e) {
      this.#o.onRefused?.();
      if (e instanceof ConfigError) return this.#refused(trigger, e.message, e.issues);
      return this.#refused(trigger, (e as Error).message);
    }
    try {
      const summary = await this.#o.apply(config);
      logger.info("config reloaded", { trigger, path, ...(typeof summary === "object" && summary !== null ? summary : {}) });
      return { ok: true, summary };
    } catch (e) {
      return this.#refused(trigger, (e as Error).message);
    }
  }

  #refused(trigger: string, error: string, issues?: readonly string[]): ReloadOutcome {
    this.#o.logger.error("config reload refused; the running config stays", { trigger, path: this.#o.path, error, ...(issues ? { issues } : {}) });
    return issues ? { ok: false, error, issues } : { ok: false, error };
  }
}
