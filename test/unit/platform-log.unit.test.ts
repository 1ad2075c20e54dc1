import { describe, expect, it } from "vitest";
import { platformLog } from "../../src/runtime/platform-log";
import { withoutCodeGeneration } from "../../src/code/eval-free";

const fn = { functionName: "web", functionVersion: "7", invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:web:live", runtime: "nodejs22.x" };
const at = new Date("2026-01-02T03:04:05.678Z");
const report = { requestId: "r1", durationMs: 12.34567, billedDurationMs: 13, memorySizeMB: 128, status: "success" as const };

describe("platform log lines", () => {
  it("are START, END and REPORT in the Text format (no platform.initStart line, a timeout line)", () => {
    const log = platformLog({ LogFormat: "Text" }, fn);
    expect(log.initStart(at)).toEqual([]);
    expect(log.start(at, "r1")).toEqual(["START RequestId: r1 Version: 7"]);
    expect(log.timeout(at, "r1", 3)).toEqual(["2026-01-02T03:04:05.678Z r1 Task timed out after 3.00 seconds"]);
    expect(log.end(at, { ...report, status: "timeout" })).toEqual([
      "END RequestId: r1",
      "REPORT RequestId: r1\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tStatus: timeout\t",
    ]);
    expect(platformLog(undefined, fn).start(at, "r1")).toEqual(["START RequestId: r1 Version: 7"]);
  });

  it("are Lambda's JSON platform records in the JSON format, with millisecond metrics to three decimals", () => {
    const log = platformLog({ LogFormat: "JSON", SystemLogLevel: "INFO" }, fn);
    expect(log.start(at, "r1").map((l) => JSON.parse(l))).toEqual([
      { time: "2026-01-02T03:04:05.678Z", type: "platform.start", record: { requestId: "r1", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:web", version: "7" } },
    ]);
    expect(log.end(at, { ...report, initDurationMs: 100.98765, status: "error", errorType: "TypeError" }).map((l) => JSON.parse(l))).toEqual([
      {
        time: "2026-01-02T03:04:05.678Z",
        type: "platform.report",
        record: { requestId: "r1", metrics: { durationMs: 12.346, billedDurationMs: 13, memorySizeMB: 128, initDurationMs: 100.988 }, status: "error", errorType: "TypeError" },
      },
    ]);
    expect(log.timeout(at, "r1", 3)).toEqual([]);
    expect(JSON.parse(log.initStart(at)[0] ?? "null").record).toMatchObject({ initializationType: "on-demand", phase: "init", functionName: "web", functionVersion: "7" });
  });

  it("are filtered at SystemLogLevel: runtimeDone only at DEBUG, nothing at WARN", () => {
    const types = (level: string) => platformLog({ LogFormat: "JSON", SystemLogLevel: level }, fn).end(at, report).map((l) => JSON.parse(l).type);
    expect(types("DEBUG")).toEqual(["platform.runtimeDone", "platform.report"]);
    expect(types("INFO")).toEqual(["platform.report"]);
    expect(types("WARN")).toEqual([]);
    expect(platformLog({ LogFormat: "JSON", SystemLogLevel: "WARN" }, fn).start(at, "r1")).toEqual([]);
  });
});

describe("code generation replaced at bundle time", () => {
  const depd2 = [
    "function wrapfunction (fn, message) {",
    "  var deprecatedfn = new Function('fn', 'log', 'deprecate', 'message', 'site',",
    "    '\"use strict\"\\n' +",
    "    'return function (' + args + ') {' +",
    "    'log.call(deprecate, message, site)\\n' +",
    "    'return fn.apply(this, arguments)\\n' +",
    "    '}')(fn, log, this, message, site)",
    "  return deprecatedfn",
    "}",
    "throw new Error('line 10')",
  ].join("\n");

  it("rewrites depd's generated wrapper into a closure, keeping every later line where it was", () => {
    const out = withoutCodeGeneration(depd2, "node_modules/express/node_modules/depd/index.js");
    expect(out).not.toMatch(/new Function/);
    expect(out).toContain("var deprecatedfn = __cellfnDeprecated(fn, log, this, message, site)");
    expect(out.split("\n")[9]).toBe("throw new Error('line 10')");
    expect(out).toContain("function __cellfnDeprecated(");
  });

  it("rewrites depd 1.x's eval the same way", () => {
    const depd1 = "var deprecatedfn = eval('(function (' + args + ') {\\n' +\n  '\"use strict\"\\n' +\n  'log.call(deprecate, message, site)\\n' +\n  'return fn.apply(this, arguments)\\n' +\n  '})')";
    expect(withoutCodeGeneration(depd1, "node_modules/depd/index.js")).toMatch(/^var deprecatedfn = __cellfnDeprecated\(fn, log, deprecate, message, site\)\n\n\n\n\n/);
  });

  it("leaves other files, and depd files without the pattern, untouched", () => {
    expect(withoutCodeGeneration(depd2, "node_modules/not-depd/index.js")).toBe(depd2);
    expect(withoutCodeGeneration("module.exports = 1", "node_modules/depd/index.js")).toBe("module.exports = 1");
  });
});
