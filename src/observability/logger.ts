/**
 * JSON-lines logger: one object per line, `{"time","level","msg",...fields}`.
 * Never throws into the caller: serialization and sink failures are swallowed
 * (and counted on the root, see `droppedLines`).
 */
import { systemClock, type Clock } from "../core/index.ts";
import { createBatchedSink } from "./batched-sink.ts";
import { boundJson, createKeyPrefixes, fieldsJson, keyPlan, REDACTED_JSON, RESERVED, valueJson } from "./log-line.ts";
import { createRedaction, type KeyMatcher, type Redaction } from "./redact.ts";

export const LogLevel = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
} as const;
export type LogLevelName = keyof typeof LogLevel;

export type LogFields = Readonly<Record<string, unknown>>;
export type LogSink = (line: string) => void;

export interface Logger {
  readonly level: LogLevelName;
  isEnabled(level: LogLevelName): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (redacted once, here). */
  child(fields: LogFields): Logger;
  /**
   * For many lines with one message and the same field keys (the access log): the keys' JSON,
   * renaming and redaction are settled once, here; each line passes its values in key order
   * (undefined leaves a field out). Writes the same text as `logger[level](msg, {key: value, ...})`.
   */
  lineWriter(msg: string, keys: readonly string[]): LineWriter;
}

export type LineWriter = (level: LogLevelName, values: readonly unknown[]) => void;

export interface LoggerOptions {
  /** Minimum level written. Default "info". */
  level?: LogLevelName;
  /**
   * Receives each line without its trailing newline, synchronously. Default: console.log, with the
   * lines of one microtask checkpoint joined into one call (warn and error lines are written at once).
   */
  sink?: LogSink;
  /** Fields on every line. */
  fields?: LogFields;
  /** Keys whose values are replaced by "[REDACTED]"; default DEFAULT_REDACT_KEYS. */
  redactKeys?: readonly KeyMatcher[];
  /** Mask JWT/bearer-looking substrings inside string values. Default true. */
  maskSecretsInValues?: boolean;
  clock?: Clock;
}

interface Shared {
  readonly min: number;
  readonly levelName: LogLevelName;
  readonly sink: LogSink;
  /** Writes lines the default sink still holds; undefined for a sink given in the options. */
  readonly flush: (() => void) | undefined;
  readonly redaction: Redaction;
  readonly clock: Clock;
  readonly keyPrefix: (key: string) => string | null;
  /** The last line's time and its ISO text: many lines share a millisecond under load. */
  lastMs: number;
  lastIso: string;
  dropped: number;
}

class JsonLogger implements Logger {
  readonly #shared: Shared;
  readonly #bound: Record<string, unknown>;
  /** The bound fields as JSON members, or undefined: every line takes the general path. */
  readonly #boundJson: { readonly json: string; readonly keys: ReadonlySet<string> } | undefined;

  constructor(shared: Shared, bound: Record<string, unknown>) {
    this.#shared = shared;
    this.#bound = bound;
    this.#boundJson = boundJson(bound);
  }

  get level(): LogLevelName {
    return this.#shared.levelName;
  }

  /** Lines lost to a throwing sink or unserializable fields, across this logger's family. */
  get droppedLines(): number {
    return this.#shared.dropped;
  }

  isEnabled(level: LogLevelName): boolean {
    return LogLevel[level] >= this.#shared.min;
  }

  debug(msg: string, fields?: LogFields): void {
    if (LogLevel.debug >= this.#shared.min) this.#write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    if (LogLevel.info >= this.#shared.min) this.#write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    if (LogLevel.warn >= this.#shared.min) this.#write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    if (LogLevel.error >= this.#shared.min) this.#write("error", msg, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.#shared, { ...this.#bound, ...this.#redactFields(fields) });
  }

  lineWriter(msg: string, keys: readonly string[]): LineWriter {
    const s = this.#shared;
    const bound = this.#boundJson;
    const plan = bound === undefined ? undefined : keyPlan(keys, s.redaction, s.keyPrefix, bound.keys);
    // Through the usual path, for keys the plan cannot take and for lines with an object value.
    const general = (level: LogLevelName, values: readonly unknown[]) => {
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) fields[keys[i]!] = values[i];
      this[level](msg, fields);
    };
    if (plan === undefined || bound === undefined) return general;
    const head = `","msg":${JSON.stringify(s.redaction.maskString(msg))}${bound.json}`;
    const { prefixes, secret } = plan;
    return (level, values) => {
      if (LogLevel[level] < s.min) return;
      try {
        let out = "";
        for (let i = 0; i < prefixes.length; i++) {
          if (secret[i]) {
            out += prefixes[i]! + REDACTED_JSON;
            continue;
          }
          const j = valueJson(values[i], s.redaction);
          if (j === null) return general(level, values);
          if (j !== undefined) out += prefixes[i]! + j;
        }
        const now = s.clock.now();
        if (now !== s.lastMs) {
          s.lastIso = new Date(now).toISOString();
          s.lastMs = now;
        }
        s.sink(`{"time":"${s.lastIso}","level":"${level}${head}${out}}`);
        if (s.flush !== undefined && LogLevel[level] >= LogLevel.warn) s.flush();
      } catch {
        s.dropped++;
      }
    };
  }

  #redactFields(fields: LogFields): Record<string, unknown> {
    const r = this.#shared.redaction.redact(fields);
    return typeof r === "object" && r !== null ? (r as Record<string, unknown>) : {};
  }

  #write(level: LogLevelName, msg: string, fields: LogFields | undefined): void {
    const s = this.#shared;
    try {
      const now = s.clock.now();
      if (now !== s.lastMs) {
        s.lastIso = new Date(now).toISOString();
        s.lastMs = now;
      }
      s.sink(this.#fastLine(s.lastIso, level, msg, fields) ?? this.#generalLine(s.lastIso, level, msg, fields));
      // Warnings and errors may be the last words before an exit: never leave them queued.
      if (s.flush !== undefined && LogLevel[level] >= LogLevel.warn) s.flush();
    } catch {
      s.dropped++;
    }
  }

  /** Written by hand (see log-line.ts); undefined when the general path is needed. */
  #fastLine(time: string, level: LogLevelName, msg: string, fields: LogFields | undefined): string | undefined {
    const bound = this.#boundJson;
    if (bound === undefined || typeof msg !== "string") return undefined;
    const s = this.#shared;
    const rest = fields === undefined ? "" : fieldsJson(fields, s.redaction, s.keyPrefix, bound.keys.size > 0 ? bound.keys : undefined);
    if (rest === undefined) return undefined;
    return `{"time":"${time}","level":"${level}","msg":${JSON.stringify(s.redaction.maskString(msg))}${bound.json}${rest}}`;
  }

  /** A redacted copy of everything merged into one object, then JSON.stringify. */
  #generalLine(time: string, level: LogLevelName, msg: string, fields: LogFields | undefined): string {
    const line: Record<string, unknown> = { time, level, msg: this.#shared.redaction.redact(msg) };
    assign(line, this.#bound);
    if (fields !== undefined) assign(line, this.#redactFields(fields));
    return JSON.stringify(line);
  }
}

function assign(line: Record<string, unknown>, fields: Record<string, unknown>): void {
  for (const k in fields) line[RESERVED.has(k) ? `_${k}` : k] = fields[k];
}

export function createLogger(options: LoggerOptions = {}): Logger & { readonly droppedLines: number } {
  const levelName = options.level ?? "info";
  const redaction = createRedaction({
    ...(options.redactKeys !== undefined ? { keys: options.redactKeys } : {}),
    maskValues: options.maskSecretsInValues ?? true,
  });
  const batch =
    options.sink === undefined
      ? createBatchedSink({
          out: (text) => console.log(text),
          onLost: (n) => {
            shared.dropped += n;
          },
        })
      : undefined;
  const shared: Shared = {
    min: LogLevel[levelName],
    levelName,
    sink: options.sink ?? batch!.write,
    flush: batch?.flush,
    redaction,
    clock: options.clock ?? systemClock,
    keyPrefix: createKeyPrefixes(),
    lastMs: Number.NaN,
    lastIso: "",
    dropped: 0,
  };
  const bound = options.fields === undefined ? {} : (redaction.redact(options.fields) as Record<string, unknown>);
  return new JsonLogger(shared, bound);
}

/** Parses a level name from config; undefined when unknown. */
export function parseLogLevel(text: string): LogLevelName | undefined {
  const t = text.trim().toLowerCase();
  return Object.hasOwn(LogLevel, t) ? (t as LogLevelName) : undefined;
}
