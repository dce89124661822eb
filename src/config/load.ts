// Parse and validate a config (YAML or JSON text). Errors list every problem with its path.
import { parse as parseYaml } from "yaml";
import { configSchema, type Config } from "./schema.ts";

export class ConfigError extends Error {
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    super(`invalid config ${source}:\n  ${issues.join("\n  ")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function parseConfig(value: unknown, source = "(inline)"): Config {
  const r = configSchema.safeParse(value);
  if (r.success) return r.data;
  throw new ConfigError(
    source,
    r.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`),
  );
}

export function parseConfigText(text: string, source: string): Config {
  let value: unknown;
  try {
    value = source.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(source, [`(file): not valid ${source.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`]);
  }
  return parseConfig(value, source);
}
