// JSON text of google.protobuf.Timestamp and Duration, character for character as protobuf-es writes
// them (https://protobuf.dev/programming-guides/json/). Values protobuf-es refuses throw NotFast, so the
// caller falls back and protobuf-es reports its own error.
import { NotFast } from "./wire-cursor.ts";

// timestamp.proto: "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive".
const TIMESTAMP_MS_MIN = Date.parse("0001-01-01T00:00:00Z");
const TIMESTAMP_MS_MAX = Date.parse("9999-12-31T23:59:59Z");
// duration.proto: "approximately +-10,000 years" = +-315,576,000,000 seconds.
const DURATION_SECONDS_MAX = 315_576_000_000;

/** `seconds` exact below 2^53 (larger values are out of range anyway). */
export function timestampText(seconds: number, nanos: number): string {
  const ms = seconds * 1000;
  if (!(ms >= TIMESTAMP_MS_MIN && ms <= TIMESTAMP_MS_MAX)) throw new NotFast("timestamp out of range");
  if (nanos < 0 || nanos > 999_999_999) throw new NotFast("timestamp nanos out of range");
  let z = "Z";
  if (nanos > 0) {
    const n = (nanos + 1_000_000_000).toString().substring(1);
    if (n.substring(3) === "000000") z = "." + n.substring(0, 3) + "Z";
    else if (n.substring(6) === "000") z = "." + n.substring(0, 6) + "Z";
    else z = "." + n + "Z";
  }
  return '"' + new Date(ms).toISOString().replace(".000Z", z) + '"';
}

/** `secondsText` is the exact decimal int64; `seconds` its value as a double. */
export function durationText(seconds: number, secondsText: string, nanos: number): string {
  if (seconds > DURATION_SECONDS_MAX || seconds < -DURATION_SECONDS_MAX) throw new NotFast("duration out of range");
  if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) throw new NotFast("duration sign mismatch");
  let text = secondsText;
  if (nanos !== 0) {
    let n = Math.abs(nanos).toString();
    n = "0".repeat(9 - n.length) + n;
    if (n.substring(3) === "000000") n = n.substring(0, 3);
    else if (n.substring(6) === "000") n = n.substring(0, 6);
    text += "." + n;
    if (nanos < 0 && seconds === 0) text = "-" + text;
  }
  return '"' + text + 's"';
}
