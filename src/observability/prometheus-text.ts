/**
 * Prometheus text exposition format 0.0.4:
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
import type { MetricSnapshot } from "./metric-types.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** HELP text: backslash and line feed are escaped (quotes are not). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Label values: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Values use Go ParseFloat syntax; infinities and NaN have fixed spellings. */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelPairs(names: readonly string[], values: readonly string[]): string {
  let out = "";
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ",";
    out += `${names[i]}="${escapeLabelValue(values[i] ?? "")}"`;
  }
  return out;
}

function withBraces(pairs: string): string {
  return pairs === "" ? "" : `{${pairs}}`;
}

export function renderSnapshot(m: MetricSnapshot, out: string[]): void {
  out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`);
  out.push(`# TYPE ${m.name} ${m.type}`);
  if (m.type !== "histogram") {
    for (const s of m.series) {
      out.push(`${m.name}${withBraces(labelPairs(m.labelNames, s.values))} ${formatSampleValue(s.value)}`);
    }
    return;
  }
  for (const s of m.series) {
    const pairs = labelPairs(m.labelNames, s.values);
    const sep = pairs === "" ? "" : ",";
    for (let i = 0; i <= m.buckets.length; i++) {
      const le = i < m.buckets.length ? formatSampleValue(m.buckets[i]!) : "+Inf";
      out.push(`${m.name}_bucket{${pairs}${sep}le="${le}"} ${formatSampleValue(s.cumulative[i] ?? s.count)}`);
    }
    out.push(`${m.name}_sum${withBraces(pairs)} ${formatSampleValue(s.sum)}`);
    out.push(`${m.name}_count${withBraces(pairs)} ${formatSampleValue(s.count)}`);
  }
}

/** The whole exposition; ends with a line feed as the format requires. */
export function renderPrometheusText(snapshots: Iterable<MetricSnapshot>): string {
  const out: string[] = [];
  for (const m of snapshots) renderSnapshot(m, out);
  return out.length === 0 ? "" : out.join("\n") + "\n";
}
