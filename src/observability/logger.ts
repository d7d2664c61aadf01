/** Severity levels in increasing order; a logger drops lines below its level. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /pass(word)?|token|secret|authorization|cookie|^sig$|refresh|private|^d$/i;

/** Fields of one log line, in Elastic Common Schema dotted names (`http.request.method`, `user.id` ...). */
export type LogFields = Record<string, unknown>;

/**
 * Writes one JSON line per call with ECS fields (`@timestamp`, `log.level`, `message`, `ecs.version`,
 * `service.*`, `cloud.region`). Values under keys that look like secrets (password, token, authorization,
 * ...) are replaced by `[redacted]` as a last line of defence; callers never pass bodies in the first place.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` too. */
  child(fields: LogFields): Logger;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  base?: LogFields;
  /** Where lines go; stdout by default. Tests pass an array-backed sink. */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

function writeStdout(line: string): void {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
}

/** Creates a {@link Logger}. */
export function createLogger(options: LoggerOptions): Logger {
  const min = ORDER[options.level];
  const write = options.write ?? writeStdout;
  const base = { "ecs.version": "8.11.0", ...options.base };
  function log(level: LogLevel, message: string, fields?: LogFields) {
    if (ORDER[level] < min) return;
    const line = {
      "@timestamp": new Date().toISOString(),
      "log.level": level,
      message,
      ...base,
      ...(fields ? redact(fields) : undefined),
    };
    try {
      write(JSON.stringify(line));
    } catch {
      // A closed stdout must never take the process down.
    }
  }
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    child: (fields) => createLogger({ ...options, base: { ...options.base, ...fields } }),
  };
}

function redact(fields: LogFields, depth = 0): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const leaf = key.split(".").at(-1)!;
    if (SECRET_KEY.test(leaf)) out[key] = "[redacted]";
    else if (value instanceof Error) out[key] = { type: value.name, message: value.message };
    else if (value && typeof value === "object" && !Array.isArray(value) && depth < 4) {
      out[key] = redact(value as LogFields, depth + 1);
    } else out[key] = value;
  }
  return out;
}

/** ECS fields describing an error: type, message and stack (logs only; never sent to clients). */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) {
    return { "error.type": err.name, "error.message": err.message, "error.stack_trace": err.stack };
  }
  return { "error.message": String(err) };
}
