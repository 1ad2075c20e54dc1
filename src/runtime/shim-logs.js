// @ts-check
/**
 * How the runtime shim (shim.js) writes a function's log lines, as the Lambda
 * Node.js runtime interface client does (src/LogPatch.js of
 * aws-lambda-nodejs-runtime-interface-client):
 * - console.* in the Text format: `<ISO ts>\t<requestId>\t<LEVEL>\t<util.format(...)>`;
 * - console.* in the JSON format (AWS_LAMBDA_LOG_FORMAT=JSON, LoggingConfig.LogFormat):
 *   `{"timestamp","level","requestId","message"}` plus errorType/errorMessage/stackTrace
 *   for the first Error argument, and only at or above AWS_LAMBDA_LOG_LEVEL
 *   (ApplicationLogLevel);
 * - process.stdout.write / process.stderr.write: the text itself, one log line
 *   per "\n" (pino, winston, Powertools and EMF JSON lines arrive untouched);
 *   in the JSON format filtered at AWS_LAMBDA_LOG_LEVEL too, by the line's own
 *   "level" field, INFO when it has none (Lambda's rule for logs written
 *   other than through console: developer guide, "Log-level filtering").
 */

/** util.format, taken at the first line written: node:util is not evaluated at isolate start. */
let utilFormat;
/** @param {unknown[]} args */
const format = (...args) => (utilFormat ??= process.getBuiltinModule("node:util").format)(...args);

/** Priorities of the runtime's levels (LogPatch.js). */
const PRIORITY = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };

const jsonMode = () => process.env.AWS_LAMBDA_LOG_FORMAT === "JSON";

/** Whether console output at `level` is written (filtering applies to the JSON format only, as in Lambda). */
export function levelEnabled(level) {
  if (!jsonMode()) return true;
  const min = PRIORITY[/** @type {keyof typeof PRIORITY} */ (process.env.AWS_LAMBDA_LOG_LEVEL ?? "INFO")] ?? PRIORITY.INFO;
  return PRIORITY[/** @type {keyof typeof PRIORITY} */ (level)] >= min;
}

/** Whether a raw stdout/stderr line is written: always in Text; in JSON by its "level" field (any case), else as INFO. */
export function rawLineEnabled(line) {
  if (!jsonMode()) return true;
  let level = "INFO";
  if (line.startsWith("{")) {
    try {
      const own = JSON.parse(line)?.level;
      if (typeof own === "string" && own.toUpperCase() in PRIORITY) level = own.toUpperCase();
    } catch { /* not JSON: INFO */ }
  }
  return levelEnabled(level);
}

/** The RIC's jsonErrorReplacer: an Error becomes { errorType, errorMessage, stackTrace, ...own fields }. */
function jsonErrorReplacer(_key, value) {
  if (!(value instanceof Error)) return value;
  return Object.assign(
    { errorType: value?.constructor?.name ?? "UnknownError", errorMessage: value.message, stackTrace: typeof value.stack === "string" ? value.stack.split("\n") : value.stack },
    value,
  );
}

/** One console line, in the function's log format. `requestId` is undefined during init. */
export function consoleLine(level, requestId, args) {
  const timestamp = new Date().toISOString();
  if (!jsonMode()) return timestamp + "\t" + requestId + "\t" + level + "\t" + format(args[0], ...args.slice(1));
  /** @type {Record<string, unknown>} */
  const result = { timestamp, level, requestId };
  const [message, ...params] = args;
  if (params.length === 0) {
    result.message = message;
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch {
      result.message = format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = format(message, ...params);
  for (const param of params) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? "UnknownError";
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === "string" ? param.stack.split("\n") : [];
      break;
    }
  }
  return JSON.stringify(result, jsonErrorReplacer);
}

const decoder = new TextDecoder();

/**
 * Replaces process.stdout.write and process.stderr.write: complete lines go
 * to `push` as written; a partial line waits for its "\n" or for flush().
 */
export function captureRawStreams(push) {
  let pending = "";
  const write = (chunk, encoding, callback) => {
    const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? decoder.decode(chunk) : String(chunk);
    const parts = (pending + text).split("\n");
    pending = parts.pop() ?? "";
    for (const line of parts) if (rawLineEnabled(line)) push(line);
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") queueMicrotask(() => done());
    return true;
  };
  /** @param {unknown} stream */
  const capture = (stream) => {
    if (stream) Object.defineProperty(stream, "write", { value: write, writable: true, configurable: true });
    return stream;
  };
  // workerd builds process.stdout/stderr (node:stream Writables) in their getters, which
  // costs more than the rest of the shim at isolate start: capture each when first read.
  for (const key of /** @type {const} */ (["stdout", "stderr"])) {
    const own = Object.getOwnPropertyDescriptor(process, key);
    if (own?.get === undefined) {
      capture(process[key]);
      continue;
    }
    const get = own.get;
    let stream;
    let read = false;
    Object.defineProperty(process, key, {
      get() {
        if (!read) { read = true; stream = capture(get.call(process)); }
        return stream;
      },
      set(value) { read = true; stream = value; },
      enumerable: own.enumerable,
      configurable: true,
    });
  }
  return {
    flush() {
      if (pending !== "" && rawLineEnabled(pending)) push(pending);
      pending = "";
    },
  };
}

/**
 * util.debuglog as Node has it: silent unless NODE_DEBUG names the section
 * (comma-separated, `*` wildcards), then `SECTION <pid>: message` on stderr.
 * workerd's own writes every message to the console. The shim applies it
 * when the function imports node:util (or requires it at run time).
 */
export function quietDebuglog(util = process.getBuiltinModule("node:util")) {
  const debuglog = (section, callback) => {
    const name = String(section).toUpperCase();
    const enabled = () =>
      (process.env.NODE_DEBUG ?? "").split(/[\s,]+/).filter(Boolean)
        .some((pattern) => new RegExp("^" + pattern.replace(/[|\\{}()[\]^$+?.]/g, "\\$&").replaceAll("*", ".*") + "$", "i").test(name));
    const log = (...args) => {
      if (!enabled()) return;
      process.stderr.write(name + " " + process.pid + ": " + format(args[0], ...args.slice(1)) + "\n");
    };
    Object.defineProperty(log, "enabled", { get: enabled });
    if (typeof callback === "function") callback(log);
    return log;
  };
  for (const key of ["debuglog", "debug"]) {
    try { Object.defineProperty(util, key, { value: debuglog, writable: true, configurable: true }); } catch { /* a frozen namespace keeps workerd's */ }
  }
}
