/**
 * Structured logs for every Toolfleet program (operator, registry, domain servers, make run):
 * one JSON object a line, `{"time", "level", "msg", ...fields}`, so a log pipeline indexes by
 * field instead of parsing prose. Logs go to stderr; stdout is for a program's data (the
 * servers' audit trail, a benchmark's figure, the CLI's answers). An Error in a field, at any
 * depth, is written as its message.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;
/** Receives one line, without its newline. */
export type LogSink = (line: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line, e.g. `{ namespace, name }`. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** The lowest level written; "info" unless set. */
  level?: LogLevel;
  /** Where lines go; stderr unless set. */
  sink?: LogSink;
}

const stderrSink: LogSink = (line) => void process.stderr.write(`${line}\n`);

export function createLogger(base: LogFields = {}, options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? "info"];
  const sink = options.sink ?? stderrSink;
  const log = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, errorAsMessage));
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (fields) => createLogger({ ...base, ...fields }, options),
  };
}

function errorAsMessage(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

/** For tests and benchmarks that want quiet. */
export const silentLogger: Logger = createLogger({}, { sink: () => {} });
