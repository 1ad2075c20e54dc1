import { timeoutLine } from "../runtime/log-format";
import { functionLogGroup } from "./limits";
import { logGroupObject } from "./groups";

/**
 * How the platform writes function logs into CloudWatch Logs–compatible storage.
 *
 * Contract of `recordInvocationLog` (the invoke path calls it under
 * `ctx.waitUntil`, never on the response's critical path):
 *  - `tenantId`: the function's tenant; the log group is stored under it
 *    and only that tenant's keys can read it.
 *  - `logGroup`: `/aws/lambda/<function name>` (see `functionLogGroup`) or
 *    the function's `LoggingConfig.LogGroup`. Created on first write with no
 *    retention policy, as Lambda's groups are.
 *  - `logStream`: the caller's choice; Lambda's is
 *    `YYYY/MM/DD/[<version>]<execution environment id>`. Created on first write.
 *  - `lines`: the invocation's lines in order, each its own event: START,
 *    application lines (`<ISO time>\t<requestId>\t<LEVEL>\t<message>`), END,
 *    REPORT, and any platform line (timeouts). `timestamp` is epoch ms.
 *    A line over 256 KB is cut to 256 KB (UTF-8, on a character boundary),
 *    as Lambda does; nothing else is dropped or reordered.
 *  - Resolves once the lines are stored (readable by GetLogEvents,
 *    FilterLogEvents and Insights). Rejects if storage fails: the caller
 *    logs the failure; the invocation's outcome does not depend on it.
 *  - Not deduplicated: calling twice with the same lines stores them twice.
 */
export interface InvocationLog {
  tenantId: string;
  logGroup: string;
  logStream: string;
  lines: Array<{ timestamp: number; message: string }>;
}

export async function recordInvocationLog(env: Env, entry: InvocationLog): Promise<void> {
  // One Durable Object call per invocation: the group lists itself in the tenant's directory when it is first created.
  await logGroupObject(env, entry.tenantId, entry.logGroup).append(entry.logStream, entry.lines, Date.now(), { tenantId: entry.tenantId, name: entry.logGroup });
}

/** Platform events a function's log shows although its code never ran (or never finished). */
export type PlatformEvent =
  | { kind: "throttle"; requestId: string; reason: string }
  | { kind: "timeout"; requestId: string; timeoutSeconds: number }
  | { kind: "error"; requestId: string; message: string };

/**
 * Logs a platform event into the function's log group, in the stream
 * `platform` unless one is given (a throttled request has no execution
 * environment, so no environment stream). Same storage, contract and
 * failure behaviour as `recordInvocationLog`.
 */
export async function recordPlatformEvent(
  env: Env,
  entry: { tenantId: string; functionName: string; logGroup?: string; logStream?: string; event: PlatformEvent; at?: number },
): Promise<void> {
  const at = entry.at ?? Date.now();
  await recordInvocationLog(env, {
    tenantId: entry.tenantId,
    logGroup: entry.logGroup ?? functionLogGroup(entry.functionName),
    logStream: entry.logStream ?? PLATFORM_STREAM,
    lines: [{ timestamp: at, message: platformLine(new Date(at), entry.event) }],
  });
}

export const PLATFORM_STREAM = "platform";

/** Lambda's own wording where it has one (timeouts); throttles are cellfn's, tagged like Lambda's platform lines. */
export function platformLine(at: Date, event: PlatformEvent): string {
  switch (event.kind) {
    case "timeout":
      return timeoutLine(at, event.requestId, event.timeoutSeconds);
    case "throttle":
      return `${at.toISOString()}\t${event.requestId}\tWARN\tPLATFORM Throttled: ${event.reason}`;
    case "error":
      return `${at.toISOString()}\t${event.requestId}\tERROR\tPLATFORM ${event.message}`;
  }
}
