/**
 * The platform's own lines in an invocation's log (START, END, REPORT, the
 * timeout line), in the function's LoggingConfig format, as pure functions.
 *
 * LogFormat Text: the lines of src/runtime/log-format.ts.
 * LogFormat JSON: Lambda's platform records, `{"time","type","record"}` as
 * CloudWatch shows them for a nodejs22.x function with JSON logging:
 *   {"time":"…","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init",
 *     "runtimeVersion":…,"runtimeVersionArn":…,"functionName":…,"functionVersion":…}}
 *   {"time":"…","type":"platform.start","record":{"requestId":…,"functionArn":…,"version":"$LATEST"}}
 *   {"time":"…","type":"platform.report","record":{"requestId":…,"metrics":{"durationMs":1233.96,
 *     "billedDurationMs":1698,"memorySizeMB":256,"maxMemoryUsedMB":123,"initDurationMs":463.512},"status":"success"}}
 * filtered at SystemLogLevel: platform.initStart, platform.start and
 * platform.report are INFO records, platform.runtimeDone a DEBUG one (the
 * Telemetry API's event schema), so WARN keeps none of them. There is no
 * platform.end record and no timeout text line: the report's status says
 * "timeout". `maxMemoryUsedMB` is left out, as "Max Memory Used" is in
 * Text (see log-format.ts: an isolate's memory cannot be measured).
 */
import { endLine, reportLine, startLine, timeoutLine } from "./log-format";

export type SystemLogLevel = "DEBUG" | "INFO" | "WARN";

const LEVEL_PRIORITY: Record<SystemLogLevel, number> = { DEBUG: 2, INFO: 3, WARN: 4 };

export interface LoggingSettings {
  LogFormat: string;
  SystemLogLevel?: string | undefined;
}

export interface FunctionIdentity {
  functionName: string;
  functionVersion: string;
  /** As invoked (may carry a qualifier); platform.start names the unqualified ARN. */
  invokedFunctionArn: string;
  runtime: string;
}

export type InvocationStatus = "success" | "error" | "timeout" | "failure";

export interface ReportInput {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  initDurationMs?: number;
  status: InvocationStatus;
  /** The error's errorType, when status is not success. */
  errorType?: string;
}

/** The platform lines of one invocation, each call returning the lines to append (none when filtered out). */
export interface PlatformLog {
  initStart(at: Date): string[];
  start(at: Date, requestId: string): string[];
  timeout(at: Date, requestId: string, timeoutSeconds: number): string[];
  /** END and REPORT (Text), or platform.runtimeDone and platform.report (JSON). */
  end(at: Date, report: ReportInput): string[];
}

export function platformLog(logging: LoggingSettings | undefined, fn: FunctionIdentity): PlatformLog {
  if (logging?.LogFormat !== "JSON") return textLog(fn);
  const min = LEVEL_PRIORITY[(logging.SystemLogLevel ?? "INFO") as SystemLogLevel] ?? LEVEL_PRIORITY.INFO;
  const record = (level: SystemLogLevel, at: Date, type: string, body: Record<string, unknown>): string[] =>
    LEVEL_PRIORITY[level] >= min ? [JSON.stringify({ time: at.toISOString(), type, record: body })] : [];
  const region = fn.invokedFunctionArn.split(":")[3] ?? "";
  return {
    initStart: (at) =>
      record("INFO", at, "platform.initStart", {
        initializationType: "on-demand",
        phase: "init",
        runtimeVersion: `cellfn-${fn.runtime}`,
        runtimeVersionArn: `arn:aws:lambda:${region}::runtime:cellfn-${fn.runtime}`,
        functionName: fn.functionName,
        functionVersion: fn.functionVersion,
      }),
    start: (at, requestId) =>
      record("INFO", at, "platform.start", { requestId, functionArn: unqualified(fn.invokedFunctionArn), version: fn.functionVersion }),
    timeout: () => [],
    end: (at, report) => {
      const outcome = { status: report.status, ...(report.errorType === undefined ? {} : { errorType: report.errorType }) };
      return [
        ...record("DEBUG", at, "platform.runtimeDone", { requestId: report.requestId, ...outcome, metrics: { durationMs: ms(report.durationMs) } }),
        ...record("INFO", at, "platform.report", {
          requestId: report.requestId,
          metrics: {
            durationMs: ms(report.durationMs),
            billedDurationMs: report.billedDurationMs,
            memorySizeMB: report.memorySizeMB,
            ...(report.initDurationMs === undefined ? {} : { initDurationMs: ms(report.initDurationMs) }),
          },
          ...outcome,
        }),
      ];
    },
  };
}

function textLog(fn: FunctionIdentity): PlatformLog {
  return {
    initStart: () => [],
    start: (_at, requestId) => [startLine(requestId, fn.functionVersion)],
    timeout: (at, requestId, timeoutSeconds) => [timeoutLine(at, requestId, timeoutSeconds)],
    end: (_at, report) => [
      endLine(report.requestId),
      reportLine({
        requestId: report.requestId,
        durationMs: report.durationMs,
        billedDurationMs: report.billedDurationMs,
        memorySizeMB: report.memorySizeMB,
        ...(report.initDurationMs === undefined ? {} : { initDurationMs: report.initDurationMs }),
        ...(report.status === "timeout" ? { status: "timeout" as const } : {}),
      }),
    ],
  };
}

/** arn:aws:lambda:<region>:<account>:function:<name>, without a version or alias. */
function unqualified(arn: string): string {
  return arn.split(":").slice(0, 7).join(":");
}

/** Milliseconds as Lambda's records give them: at most three decimals. */
function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}
