/**
 * The text log format of the Lambda Node.js runtime (LogFormat `Text`), as
 * pure functions: the platform lines (START / END / REPORT / timeout), the
 * application line format, and the `X-Amz-Log-Result` tail.
 *
 * The shim (src/runtime/shim.js) formats application lines itself,
 * inside the function's isolate, with the same layout as `appLogLine`.
 */

/** Console levels as the runtime names them (console.log is INFO). */
export type LogLevel = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL";

/**
 * `<ISO-8601 ms Z>\t<requestId>\t<LEVEL>\t<message>`. Lines logged while the
 * module initialises have no request: the runtime prints "undefined" there.
 */
export function appLogLine(at: Date, requestId: string | undefined, level: LogLevel, message: string): string {
  return `${at.toISOString()}\t${requestId}\t${level}\t${message}`;
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** `<ISO ts> <requestId> Task timed out after 3.00 seconds` (spaces, not tabs, as Lambda prints it). */
export function timeoutLine(at: Date, requestId: string, timeoutSeconds: number): string {
  return `${at.toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/**
 * cellfn's own line after a handler that held the thread past its timeout:
 * local workerd cannot preempt a Dynamic Worker (its `limits.cpuMs` is not
 * enforced there), so the handler ran to its end and every invocation in the
 * same process waited meanwhile. Said in the function's log, because that is
 * where the user looks (README "CPU-bound handlers").
 */
export function cpuBoundLine(at: Date, requestId: string, timeoutSeconds: number, durationMs: number): string {
  return (
    `${at.toISOString()} ${requestId} cellfn: the handler ran ${Math.round(durationMs)} ms without yielding, past its ${timeoutSeconds} s timeout. ` +
    "Local workerd cannot stop code that never yields: it ran to its end, and every other invocation in this process (all tenants) waited meanwhile. " +
    "On Cloudflare the CPU limit stops it at the timeout. See README \"CPU-bound handlers\"."
  );
}

/** The Invoke payload's errorMessage for a timeout (current format, Sandbox.Timedout). */
export function timeoutMessage(requestId: string, timeoutSeconds: number): string {
  return `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

export interface ReportFields {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  /** Only on a cold start: the first invocation of an execution environment. */
  initDurationMs?: number;
  /** "timeout" after a timeout (the REPORT `Status:` field; see reportLine). */
  status?: "timeout" | "error";
}

/**
 * `REPORT RequestId: <id>\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t...`
 * with a trailing tab, as Lambda ends its REPORT lines.
 *
 * "Max Memory Used" is left out on purpose: a Worker cannot measure the
 * memory of one isolate (inside it process.memoryUsage() and
 * v8.getHeapStatistics() answer zeros, performance.memory does not exist, and
 * the Worker Loader reports none), and a made-up number would mislead whoever tunes
 * MemorySize from it. Parsers of REPORT lines match fields by name, so a
 * missing field is safer than a wrong one. `Status: timeout` follows Lambda's
 * current REPORT lines for timed-out invocations (the reference notes mark
 * the field as unconfirmed).
 */
export function reportLine(fields: ReportFields): string {
  const parts = [
    `REPORT RequestId: ${fields.requestId}`,
    `Duration: ${fields.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${fields.billedDurationMs} ms`,
    `Memory Size: ${fields.memorySizeMB} MB`,
  ];
  if (fields.initDurationMs !== undefined) parts.push(`Init Duration: ${fields.initDurationMs.toFixed(2)} ms`);
  if (fields.status !== undefined) parts.push(`Status: ${fields.status}`);
  return `${parts.join("\t")}\t`;
}

/**
 * Billed Duration: whole milliseconds, rounded up, at least 1. Since
 * August 2025 Lambda also bills the init phase of on-demand functions, so a
 * cold start bills Duration + Init Duration.
 */
export function billedDurationMs(durationMs: number, initDurationMs = 0): number {
  return Math.max(1, Math.ceil(durationMs + initDurationMs));
}

/** The invocation's log: lines joined with "\n", ending with a newline as the runtime writes them. */
export function joinLog(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * `X-Amz-Log-Result`: base64 of the last `maxBytes` bytes of the log's UTF-8
 * encoding. A cut that falls inside a multi-byte character moves forward to
 * the next character, so the tail always decodes as valid UTF-8 (and is at
 * most `maxBytes` long).
 */
export function tailBase64(log: string, maxBytes = 4096): string {
  const bytes = new TextEncoder().encode(log);
  let start = Math.max(0, bytes.length - maxBytes);
  // UTF-8 continuation bytes are 0b10xxxxxx.
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
  return bytesToBase64(bytes.subarray(start));
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunked: String.fromCharCode(...bytes) overflows the stack on long input.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
